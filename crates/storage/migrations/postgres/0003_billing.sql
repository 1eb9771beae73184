-- Billing: the price book, the issuer, monthly runs and their invoices, payments, outages and
-- SLA claims, and adjustments waiting for the next invoice. Amounts are BIGINT yen.

-- contractor_id '' is the list price; otherwise the contractor's agreement (R14.1).
CREATE TABLE prices (
    key             TEXT NOT NULL,
    contractor_id   TEXT NOT NULL DEFAULT '',
    effective_from  TEXT NOT NULL,
    amount          BIGINT NOT NULL CHECK (amount >= 0),
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (key, contractor_id, effective_from)
);

CREATE TABLE issuer (
    id                   BIGINT PRIMARY KEY CHECK (id = 1),
    name                 TEXT NOT NULL,
    registration_number  TEXT NOT NULL,
    address              TEXT NOT NULL DEFAULT '',
    contact              TEXT NOT NULL DEFAULT ''
);

-- A run writes its lines under a new run id and switches `current_run` in its last
-- transaction, so a run killed midway leaves the previous invoices as they were.
CREATE TABLE billing_months (
    month         TEXT PRIMARY KEY,
    status        TEXT NOT NULL CHECK (status IN ('open', 'finalized')),
    current_run   TEXT,
    last_run_at   BIGINT,
    finalized_at  BIGINT
);

CREATE TABLE invoices (
    id                   TEXT PRIMARY KEY,
    month                TEXT NOT NULL,
    account_id           TEXT NOT NULL REFERENCES contractors (id),
    number               TEXT NOT NULL UNIQUE,
    issue_date           TEXT NOT NULL,
    due_date             TEXT NOT NULL,
    recipient_name       TEXT NOT NULL,
    issuer_name          TEXT NOT NULL,
    issuer_registration  TEXT NOT NULL,
    subtotal             BIGINT NOT NULL,
    tax                  BIGINT NOT NULL,
    total                BIGINT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('draft', 'finalized')),
    defaulted_on         TEXT
);
CREATE INDEX invoices_month ON invoices (month, account_id);
CREATE INDEX invoices_account ON invoices (account_id, month);

-- A line belongs to the invoice of (month, account_id). No primary key: billing appends
-- millions of lines per run, and one index is all readers need.
CREATE TABLE invoice_lines (
    run_id         TEXT NOT NULL,
    month          TEXT NOT NULL,
    account_id     TEXT NOT NULL,
    contractor_id  TEXT NOT NULL,
    seq            BIGINT NOT NULL,
    contract_id    TEXT NOT NULL,
    subject_id     TEXT NOT NULL,
    kind           TEXT NOT NULL,
    rule           TEXT NOT NULL,
    price_key      TEXT,
    description    TEXT NOT NULL,
    period_from    TEXT NOT NULL,
    period_to      TEXT NOT NULL,
    days           BIGINT,
    days_in_month  BIGINT,
    unit_amount    BIGINT NOT NULL,
    amount         BIGINT NOT NULL,
    refers_to      TEXT
);
CREATE INDEX invoice_lines_month ON invoice_lines (month, run_id, account_id);

CREATE TABLE payments (
    id          TEXT PRIMARY KEY,
    invoice_id  TEXT NOT NULL REFERENCES invoices (id),
    paid_on     TEXT NOT NULL,
    amount      BIGINT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE INDEX payments_invoice ON payments (invoice_id);

-- Amounts waiting for the next open invoice of an account: corrections of finalized invoices
-- (B4) and unpaid redirected management fees moved back (R6.4).
CREATE TABLE pending_adjustments (
    id             TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL REFERENCES contractors (id),
    contractor_id  TEXT NOT NULL,
    contract_id    TEXT NOT NULL,
    kind           TEXT NOT NULL,
    rule           TEXT NOT NULL,
    description    TEXT NOT NULL,
    amount         BIGINT NOT NULL,
    refers_to      TEXT NOT NULL,
    -- For corrections: the subject and kind of the line corrected (with rule and contract).
    corrects_subject  TEXT NOT NULL DEFAULT '',
    corrects_kind     TEXT NOT NULL DEFAULT '',
    created_on     TEXT NOT NULL,
    applied_month  TEXT
);
CREATE INDEX pending_adjustments_account ON pending_adjustments (account_id, applied_month);

CREATE TABLE outages (
    id               TEXT PRIMARY KEY,
    learned_at       BIGINT NOT NULL,
    restored_at      BIGINT NOT NULL,
    operator_caused  BIGINT NOT NULL,
    scope            TEXT NOT NULL,
    affected         TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL
);

CREATE TABLE sla_claims (
    id             TEXT PRIMARY KEY,
    outage_id      TEXT NOT NULL REFERENCES outages (id),
    contract_id    TEXT NOT NULL REFERENCES contracts (id),
    contractor_id  TEXT NOT NULL REFERENCES contractors (id),
    claimed_on     TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'refused')),
    decided_on     TEXT,
    UNIQUE (outage_id, contract_id)
);
CREATE INDEX sla_claims_contractor ON sla_claims (contractor_id, status);

-- When each contractor's book last changed: a finalized month is recomputed for corrections
-- only for contractors changed since it was finalized (B4).
CREATE TABLE book_changes (
    contractor_id  TEXT PRIMARY KEY,
    changed_at     BIGINT NOT NULL
);
