-- The controller (issue 5): the device inventory, preset revisions, device status and
-- monitoring, alert webhooks. Secrets (factory secrets, preset parameters and the recipes
-- rendered from them) are sealed with XChaCha20-Poly1305 and stored as hex TEXT.

-- Devices the operator can ship, keyed by the same serial as `devices`. A separate table
-- because `devices` is custody state the contract engine rewrites whole; the inventory exists
-- before any contract knows the device, and keeping factory secrets out of it means loading a
-- book never reads a secret.
CREATE TABLE device_inventory (
    serial          TEXT PRIMARY KEY,
    model           TEXT NOT NULL,
    factory_secret  TEXT NOT NULL,
    imported_at     BIGINT NOT NULL
);
CREATE INDEX device_inventory_model ON device_inventory (model);

-- Every parameter change of a service adapter's preset; the highest revision is current.
CREATE TABLE preset_revisions (
    contract_id  TEXT NOT NULL REFERENCES contracts (id),
    revision     BIGINT NOT NULL,
    item         TEXT NOT NULL,
    cause        TEXT NOT NULL,
    based_on     BIGINT,
    params       TEXT NOT NULL,
    recipe       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    created_by   TEXT NOT NULL,
    PRIMARY KEY (contract_id, revision)
);

-- The last heartbeat of each device and its monitoring state (up/down).
CREATE TABLE device_status (
    serial            TEXT PRIMARY KEY,
    state             TEXT NOT NULL,
    state_since       BIGINT NOT NULL,
    last_heartbeat    BIGINT NOT NULL,
    firmware          TEXT NOT NULL,
    uptime_seconds    BIGINT NOT NULL,
    applied_revision  BIGINT
);
CREATE INDEX device_status_state ON device_status (state, last_heartbeat);

CREATE TABLE device_state_changes (
    id      TEXT PRIMARY KEY,
    serial  TEXT NOT NULL,
    state   TEXT NOT NULL,
    at      BIGINT NOT NULL
);
CREATE INDEX device_state_changes_serial ON device_state_changes (serial, at);

CREATE TABLE alert_webhooks (
    id          TEXT PRIMARY KEY,
    url         TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);
