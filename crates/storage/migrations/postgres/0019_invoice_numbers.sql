-- Qualified invoices as issued (B3): a short sequential number given when a month is finalized
-- (drafts have none; never reused), the issuer's address, phone and bank account (振込先) kept
-- on each invoice, and the month-by-month breakdown of a line that sums several months (R15.1).
ALTER TABLE invoices ADD COLUMN serial BIGINT;
CREATE UNIQUE INDEX invoices_serial ON invoices (serial);

-- The last number given: finalization takes the next ones in its own transaction, so two
-- months finalized at once on two servers never share or skip a number.
CREATE TABLE invoice_serials (
    id    BIGINT PRIMARY KEY CHECK (id = 1),
    last  BIGINT NOT NULL
);
INSERT INTO invoice_serials (id, last) VALUES (1, 0);

-- Invoices finalized before numbering: numbered in (month, id) order.
UPDATE invoices SET serial = numbered.n
FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY month, id) AS n FROM invoices WHERE status = 'finalized') AS numbered
WHERE invoices.id = numbered.id;
UPDATE invoice_serials SET last = (SELECT COALESCE(MAX(serial), 0) FROM invoices) WHERE id = 1;

ALTER TABLE issuer ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE issuer ADD COLUMN bank_account TEXT NOT NULL DEFAULT '';

ALTER TABLE invoices ADD COLUMN issuer_address TEXT NOT NULL DEFAULT '';
ALTER TABLE invoices ADD COLUMN issuer_phone TEXT NOT NULL DEFAULT '';
ALTER TABLE invoices ADD COLUMN issuer_bank_account TEXT NOT NULL DEFAULT '';
UPDATE invoices SET issuer_address = COALESCE((SELECT address FROM issuer WHERE id = 1), '');

-- JSON: the parts of a line that sums several months (an early-termination charge, R15.1).
ALTER TABLE invoice_lines ADD COLUMN breakdown TEXT;
