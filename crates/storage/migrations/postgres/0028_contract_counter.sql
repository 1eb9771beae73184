-- One numbering mechanism: the contract counter joins the request, outage and claim counters
-- in record_numbers (kind 'contract'), going on from the last contract number given.
ALTER TABLE record_numbers DROP CONSTRAINT IF EXISTS record_numbers_kind_check;
ALTER TABLE record_numbers ADD CONSTRAINT record_numbers_kind_check
    CHECK (kind IN ('contract', 'request', 'outage', 'claim'));
DELETE FROM record_numbers WHERE kind = 'contract';
INSERT INTO record_numbers (kind, last)
SELECT 'contract', COALESCE(MAX(last), 0) FROM contract_numbers;
DROP TABLE contract_numbers;
