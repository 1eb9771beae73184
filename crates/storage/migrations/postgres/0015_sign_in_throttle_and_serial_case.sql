-- Sign-in throttling replaces the account lockout (issue 15): failures are counted per client
-- address and per address and username typed (known or not), so that nobody can lock an
-- account's owner out and no answer tells whether a username exists.
CREATE TABLE sign_in_failures (
    throttle_key   TEXT PRIMARY KEY,
    failures       BIGINT NOT NULL,
    last_failed_at BIGINT NOT NULL,
    blocked_until  BIGINT
);
CREATE INDEX sign_in_failures_last ON sign_in_failures (last_failed_at);

ALTER TABLE users DROP COLUMN failed_logins;
ALTER TABLE users DROP COLUMN locked_until;

-- Serials that differ only by letter case are one device (issue 15): the inventory refuses a
-- second one whatever path imports it.
CREATE UNIQUE INDEX device_inventory_serial_nocase ON device_inventory (LOWER(serial));
