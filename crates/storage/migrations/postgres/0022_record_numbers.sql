-- Short numbers people quote for requests (REQ-000123), outages (OUT-000123) and SLA claims
-- (CLM-000123): given in the transaction that makes the record, never reused.
ALTER TABLE requests ADD COLUMN number BIGINT;
CREATE UNIQUE INDEX requests_number ON requests (number);
ALTER TABLE outages ADD COLUMN number BIGINT;
CREATE UNIQUE INDEX outages_number ON outages (number);
ALTER TABLE sla_claims ADD COLUMN number BIGINT;
CREATE UNIQUE INDEX sla_claims_number ON sla_claims (number);

-- The last number given of each kind: a record takes the next one in its own transaction, so
-- two made at once on two servers never share or skip a number.
CREATE TABLE record_numbers (
    kind  TEXT PRIMARY KEY CHECK (kind IN ('request', 'outage', 'claim')),
    last  BIGINT NOT NULL
);

-- Records made before numbering: numbered in the order they were made (ids are UUID v7, so
-- they order as made where no creation instant is kept).
UPDATE requests SET number = numbered.n
FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, id) AS n FROM requests) AS numbered
WHERE requests.id = numbered.id;
UPDATE outages SET number = numbered.n
FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, id) AS n FROM outages) AS numbered
WHERE outages.id = numbered.id;
UPDATE sla_claims SET number = numbered.n
FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS n FROM sla_claims) AS numbered
WHERE sla_claims.id = numbered.id;

INSERT INTO record_numbers (kind, last) VALUES
    ('request', (SELECT COALESCE(MAX(number), 0) FROM requests)),
    ('outage', (SELECT COALESCE(MAX(number), 0) FROM outages)),
    ('claim', (SELECT COALESCE(MAX(number), 0) FROM sla_claims));
