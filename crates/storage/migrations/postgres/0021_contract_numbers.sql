-- Human names for contracts (issue 17): a short sequential number people say on the phone and
-- type (shown C-000123), given when the contract is created on acceptance and never reused,
-- and the site label its contractor chooses (may be empty).
ALTER TABLE contracts ADD COLUMN number BIGINT;
ALTER TABLE contracts ADD COLUMN label TEXT NOT NULL DEFAULT '';

-- The last number given: acceptance takes the next one in its own transaction, so two
-- contracts created at once on two servers never share or skip a number.
CREATE TABLE contract_numbers (
    id    BIGINT PRIMARY KEY CHECK (id = 1),
    last  BIGINT NOT NULL
);
INSERT INTO contract_numbers (id, last) VALUES (1, 0);

-- Contracts created before numbering: numbered in creation order (their ids are UUIDv7, which
-- sort by the instant they were made).
UPDATE contracts SET number = numbered.n
FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS n FROM contracts) AS numbered
WHERE contracts.id = numbered.id;
UPDATE contract_numbers SET last = (SELECT COALESCE(MAX(number), 0) FROM contracts) WHERE id = 1;
ALTER TABLE contracts ALTER COLUMN number SET NOT NULL;
CREATE UNIQUE INDEX contracts_number ON contracts (number);
