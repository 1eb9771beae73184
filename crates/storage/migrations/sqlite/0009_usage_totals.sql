-- Each option's use per Tokyo month (D1: the month of a record's start), kept with the records
-- by ingestion, so a batch decides throttles (R9.9) without summing a month's records again.
CREATE TABLE usage_totals (
    option_id  TEXT NOT NULL,
    month      TEXT NOT NULL,
    bytes      BIGINT NOT NULL,
    PRIMARY KEY (option_id, month)
);

INSERT INTO usage_totals (option_id, month, bytes)
SELECT option_id, strftime('%Y-%m', start_at / 1000000 + 32400, 'unixepoch'), SUM(bytes_up + bytes_down)
FROM usage_records GROUP BY 1, 2;

-- Counts changes to what ingestion reads of SIMs, options and groups, so a process can keep
-- them in memory between batches and notice any writer's change (R9.3, R9.6, R9.9).
CREATE TABLE mobile_generation (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    generation  BIGINT NOT NULL
);
INSERT INTO mobile_generation (id, generation) VALUES (1, 0);
CREATE TRIGGER sims_insert_generation AFTER INSERT ON sims
BEGIN UPDATE mobile_generation SET generation = generation + 1; END;
CREATE TRIGGER sims_update_generation AFTER UPDATE ON sims
BEGIN UPDATE mobile_generation SET generation = generation + 1; END;
CREATE TRIGGER sims_delete_generation AFTER DELETE ON sims
BEGIN UPDATE mobile_generation SET generation = generation + 1; END;
CREATE TRIGGER options_insert_generation AFTER INSERT ON options
BEGIN UPDATE mobile_generation SET generation = generation + 1; END;
CREATE TRIGGER options_update_generation AFTER UPDATE ON options
BEGIN UPDATE mobile_generation SET generation = generation + 1; END;
CREATE TRIGGER options_delete_generation AFTER DELETE ON options
BEGIN UPDATE mobile_generation SET generation = generation + 1; END;
CREATE TRIGGER option_usage_types_insert_generation AFTER INSERT ON option_usage_types
BEGIN UPDATE mobile_generation SET generation = generation + 1; END;
CREATE TRIGGER option_usage_types_update_generation AFTER UPDATE ON option_usage_types
BEGIN UPDATE mobile_generation SET generation = generation + 1; END;
CREATE TRIGGER option_usage_types_delete_generation AFTER DELETE ON option_usage_types
BEGIN UPDATE mobile_generation SET generation = generation + 1; END;
CREATE TRIGGER group_members_insert_generation AFTER INSERT ON group_members
BEGIN UPDATE mobile_generation SET generation = generation + 1; END;
CREATE TRIGGER group_members_update_generation AFTER UPDATE ON group_members
BEGIN UPDATE mobile_generation SET generation = generation + 1; END;
CREATE TRIGGER group_members_delete_generation AFTER DELETE ON group_members
BEGIN UPDATE mobile_generation SET generation = generation + 1; END;
CREATE TRIGGER group_packs_insert_generation AFTER INSERT ON group_packs
BEGIN UPDATE mobile_generation SET generation = generation + 1; END;
CREATE TRIGGER group_packs_update_generation AFTER UPDATE ON group_packs
BEGIN UPDATE mobile_generation SET generation = generation + 1; END;
CREATE TRIGGER group_packs_delete_generation AFTER DELETE ON group_packs
BEGIN UPDATE mobile_generation SET generation = generation + 1; END;
