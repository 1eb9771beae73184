-- Accounts, API tokens and the journal of accepted changes.
-- Instants are BIGINT microseconds since the Unix epoch (UTC); flags are INTEGER 0/1.

CREATE TABLE contractors (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    display_name   TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('operator', 'contractor')),
    contractor_id  TEXT REFERENCES contractors (id),
    created_at     BIGINT NOT NULL,
    CHECK ((role = 'operator' AND contractor_id IS NULL) OR (role = 'contractor' AND contractor_id IS NOT NULL))
);
CREATE INDEX users_contractor ON users (contractor_id);

CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    token_hash  TEXT NOT NULL UNIQUE,
    label       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE journal (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    at             BIGINT NOT NULL,
    actor          TEXT NOT NULL,
    request_id     TEXT,
    operation      TEXT NOT NULL,
    contractor_id  TEXT,
    subject        TEXT,
    request        TEXT NOT NULL,
    outcome        TEXT NOT NULL
);
CREATE INDEX journal_contractor ON journal (contractor_id, seq);
CREATE INDEX journal_operation ON journal (operation, seq);
