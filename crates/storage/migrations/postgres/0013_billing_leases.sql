-- One billing run of a month at a time, across every node (B4). A run takes its month's lease
-- in a transaction, renews it while its process lives and gives it back when it ends; a lease
-- not renewed before `expires_at` belongs to a run that died and may be taken over.
CREATE TABLE billing_leases (
    month       TEXT PRIMARY KEY,
    run_id      TEXT NOT NULL,
    started_by  TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

-- The period an adjustment line names (B2): the month it corrects (B4), or the month of the
-- unpaid invoice it moves (R6.4). Rows from before this migration fall back to `created_on`.
ALTER TABLE pending_adjustments ADD COLUMN period_from TEXT;
ALTER TABLE pending_adjustments ADD COLUMN period_to TEXT;
