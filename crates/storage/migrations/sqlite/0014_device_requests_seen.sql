-- Signed device requests accepted by any server node (issue 15: replay protection across
-- nodes). A request is known by a 64-bit fingerprint of its serial, timestamp and nonce; a
-- second insert of the same fingerprint is a replay. Rows are useless once their timestamp is
-- outside the ±5 minute window (the timestamp check refuses the replay anyway) and are
-- deleted by `signed_at`. Single-node SQLite deployments keep this in memory and leave the
-- table empty.
CREATE TABLE device_requests_seen (
    fingerprint  BIGINT PRIMARY KEY,
    signed_at    BIGINT NOT NULL
);
CREATE INDEX device_requests_seen_signed_at ON device_requests_seen (signed_at);
