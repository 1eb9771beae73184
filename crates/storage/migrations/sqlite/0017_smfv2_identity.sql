-- SMFv2 identities (issue 18): the Distribution ID a device calls home with over SMFv2, and the
-- LS key, RS key and heartbeat passphrase it proves itself with, sealed like factory secrets.
-- One per unit: a replacement unit (R11.1) has its own and serves the contract under it.
CREATE TABLE smfv2_identities (
    serial                TEXT PRIMARY KEY REFERENCES device_inventory (serial),
    distribution_id       TEXT NOT NULL UNIQUE,
    ls_key                TEXT NOT NULL,
    rs_key                TEXT NOT NULL,
    heartbeat_passphrase  TEXT NOT NULL,
    created_at            BIGINT NOT NULL,
    -- When an operator was shown the keys; they are shown once.
    revealed_at           BIGINT
);

-- What the SMFv2 listener told a device when it changed: accepted, or refused with the rule
-- (R7.1, D6, R11.1, R12.3, R3.1, R17.1), so an operator sees why a unit gets nothing.
CREATE TABLE smfv2_events (
    id      TEXT PRIMARY KEY,
    serial  TEXT NOT NULL,
    at      BIGINT NOT NULL,
    event   TEXT NOT NULL,
    rule    TEXT,
    detail  TEXT NOT NULL
);
CREATE INDEX smfv2_events_serial ON smfv2_events (serial, at);
