-- Contractors as records (issue 17): where to send paper, whom to call, where invoices go by
-- e-mail. Every one is optional; the console shows an absent one as "not set".
ALTER TABLE contractors ADD COLUMN postal_code TEXT;
ALTER TABLE contractors ADD COLUMN address TEXT;
ALTER TABLE contractors ADD COLUMN contact_name TEXT;
ALTER TABLE contractors ADD COLUMN phone TEXT;
ALTER TABLE contractors ADD COLUMN billing_email TEXT;

-- A disabled user signs in nowhere: no console sign-in, no session, no API token works until
-- an operator enables it again. `disabled_by` names who disabled it as the journal does.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
ALTER TABLE users ADD COLUMN disabled_by TEXT;
