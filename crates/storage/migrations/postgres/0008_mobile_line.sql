-- The mobile line of an SA-W2L's built-in module (ta1), one per mobile access option (R6.5,
-- R9.3): the APN, the PPP id and the password, sealed with XChaCha20-Poly1305 as hex TEXT like
-- every other secret. The network type is the option's own (option_network_types, R9.5).
CREATE TABLE mobile_lines (
    option_id   TEXT PRIMARY KEY REFERENCES options (id),
    apn         TEXT NOT NULL,
    ppp_id      TEXT NOT NULL,
    password    TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    updated_by  TEXT NOT NULL
);

-- The mobile settings a revision was rendered with (sealed JSON), so its recipe can be shown
-- masked; NULL when it carries no mobile line.
ALTER TABLE preset_revisions ADD COLUMN mobile TEXT;
