-- Mobile data (R9.3, R9.6, R9.9): SIMs, usage records, rejected records and throttle decisions.

-- The mobile access option a SIM serves, from a day until a day (inclusive; NULL: open).
CREATE TABLE sims (
    iccid       TEXT NOT NULL,
    from_on     TEXT NOT NULL,
    until_on    TEXT,
    option_id   TEXT NOT NULL REFERENCES options (id),
    PRIMARY KEY (iccid, from_on)
);
CREATE INDEX sims_option ON sims (option_id);

-- One row per record id: a re-sent record with other values replaces the old ones
-- (corrections counts how often), an identical one changes nothing.
CREATE TABLE usage_records (
    record_id   TEXT PRIMARY KEY,
    iccid       TEXT NOT NULL,
    option_id   TEXT NOT NULL,
    start_at    BIGINT NOT NULL,
    end_at      BIGINT NOT NULL,
    bytes_up    BIGINT NOT NULL,
    bytes_down  BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    corrections INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX usage_records_option ON usage_records (option_id, start_at);

-- Records refused at ingestion, kept for operators (never silently dropped).
CREATE TABLE usage_rejections (
    batch_id    TEXT NOT NULL,
    line        BIGINT NOT NULL,
    record_id   TEXT,
    iccid       TEXT,
    reason      TEXT NOT NULL,
    detail      TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (batch_id, line)
);

-- The automatic throttle decision of an option for a Tokyo month, if its use exceeded the cap or
-- its group's pack.
CREATE TABLE auto_throttles (
    option_id   TEXT NOT NULL,
    month       TEXT NOT NULL,
    from_at     BIGINT NOT NULL,
    until_at    BIGINT NOT NULL,
    limit_bytes BIGINT NOT NULL,
    used_bytes  BIGINT NOT NULL,
    basis       TEXT NOT NULL,
    group_id    TEXT,
    usage_type  TEXT,
    PRIMARY KEY (option_id, month)
);

-- The latest manual throttle or release of a SIM (the history is in throttle_events).
CREATE TABLE manual_throttles (
    iccid       TEXT PRIMARY KEY,
    action      TEXT NOT NULL,
    at          BIGINT NOT NULL,
    reason      TEXT NOT NULL,
    actor       TEXT NOT NULL
);

-- Every change of a SIM's throttle decisions, append-only; seq is the consumers' cursor.
CREATE TABLE throttle_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    iccid       TEXT NOT NULL,
    option_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    month       TEXT,
    from_at     BIGINT,
    until_at    BIGINT,
    reason      TEXT,
    created_at  BIGINT NOT NULL
);
