-- One numbering mechanism: the contract counter joins the request, outage and claim counters
-- in record_numbers (kind 'contract'), going on from the last contract number given.
-- SQLite cannot change a CHECK constraint in place, so the table is made again with the new
-- kind allowed.
CREATE TABLE record_numbers_next (
    kind  TEXT PRIMARY KEY CHECK (kind IN ('contract', 'request', 'outage', 'claim')),
    last  BIGINT NOT NULL
);
INSERT INTO record_numbers_next (kind, last)
SELECT kind, last FROM record_numbers WHERE kind <> 'contract';
INSERT INTO record_numbers_next (kind, last)
SELECT 'contract', COALESCE(MAX(last), 0) FROM contract_numbers;
DROP TABLE record_numbers;
ALTER TABLE record_numbers_next RENAME TO record_numbers;
DROP TABLE contract_numbers;
