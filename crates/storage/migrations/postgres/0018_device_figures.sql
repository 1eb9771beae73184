-- Figures an SMFv2 heartbeat carries (issue 18): CPU, memory, disk, traffic and radio, as JSON,
-- a row per heartbeat kept for a bounded time (the latest is the newest row of a serial).
CREATE TABLE device_figures (
    serial   TEXT NOT NULL,
    at       BIGINT NOT NULL,
    figures  TEXT NOT NULL,
    PRIMARY KEY (serial, at)
);
