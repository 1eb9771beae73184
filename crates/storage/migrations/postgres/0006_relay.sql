-- How far each outbound feed (webhooks of throttle events) has been delivered.
CREATE TABLE feed_cursors (
    name  TEXT PRIMARY KEY,
    seq   BIGINT NOT NULL
);
