-- Each option's use per Tokyo month (D1: the month of a record's start), kept with the records
-- by ingestion, so a batch decides throttles (R9.9) without summing a month's records again.
CREATE TABLE usage_totals (
    option_id  TEXT NOT NULL,
    month      TEXT NOT NULL,
    bytes      BIGINT NOT NULL,
    PRIMARY KEY (option_id, month)
);

-- Tokyo is UTC+9 without daylight saving: shift, then read the month in UTC.
INSERT INTO usage_totals (option_id, month, bytes)
SELECT option_id,
       to_char(to_timestamp((start_at / 1000000 + 32400)::double precision) AT TIME ZONE 'UTC', 'YYYY-MM'),
       SUM(bytes_up + bytes_down)
FROM usage_records GROUP BY 1, 2;

