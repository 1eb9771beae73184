-- Payments recorded with an Idempotency-Key: one payment per caller, invoice and key. A
-- retried request with the same body answers with the payment the first one recorded; the
-- same key with another body is refused.
CREATE TABLE payment_keys (
    caller       TEXT NOT NULL,
    invoice_id   TEXT NOT NULL REFERENCES invoices (id),
    key          TEXT NOT NULL,
    body_sha256  TEXT NOT NULL,
    payment_id   TEXT NOT NULL REFERENCES payments (id),
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (caller, invoice_id, key)
);

-- The contract, option or packet share group a request is about (none for an application),
-- so that a contract's timeline reads its own requests only.
ALTER TABLE requests ADD COLUMN subject_id TEXT;
UPDATE requests SET subject_id = COALESCE(
    json_extract(payload, '$.contract_id'),
    json_extract(payload, '$.option_id'),
    json_extract(payload, '$.group_id'));
CREATE INDEX requests_subject ON requests (contractor_id, subject_id);
