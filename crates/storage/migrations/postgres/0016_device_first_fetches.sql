-- The first time a device fetched its configuration for a contract. A serial no device has
-- fetched with yet can still be corrected by notifying another one (R7.1, issue 15); once a
-- device has its configuration, only a failure or loss report replaces it (R11.1, R12).
CREATE TABLE device_first_fetches (
    serial       TEXT NOT NULL,
    contract_id  TEXT NOT NULL,
    fetched_at   BIGINT NOT NULL,
    PRIMARY KEY (serial, contract_id)
);
