-- Month totals keyed by their primary key alone: every usage batch updates one row per option
-- it reached, and a rowid table would keep a second B-tree for the same key.
CREATE TABLE usage_totals_by_key (
    option_id  TEXT NOT NULL,
    month      TEXT NOT NULL,
    bytes      BIGINT NOT NULL,
    longest    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (option_id, month)
) WITHOUT ROWID;
INSERT INTO usage_totals_by_key (option_id, month, bytes, longest)
SELECT option_id, month, bytes, longest FROM usage_totals;
DROP TABLE usage_totals;
ALTER TABLE usage_totals_by_key RENAME TO usage_totals;

-- Set to a new random number by each usage batch, in its transaction: the batches are the only
-- writers of usage_totals and auto_throttles, so a process keeps the months it read in memory
-- while the number it left is still the stored one.
ALTER TABLE mobile_generation ADD COLUMN usage_version BIGINT NOT NULL DEFAULT 0;
