-- The longest interval among the records counted in each month total: the records that end
-- after an instant start at most this long before it, so a batch deciding a throttle reads the
-- month's records from there on instead of replaying the month (R9.9, mobile::Counted).
-- (Version 0010 re-indexes SQLite's usage records; PostgreSQL keeps its index by option.)
ALTER TABLE usage_totals ADD COLUMN longest BIGINT NOT NULL DEFAULT 0;

UPDATE usage_totals t SET longest = m.longest
FROM (
    SELECT option_id,
           to_char(to_timestamp((start_at / 1000000 + 32400)::double precision) AT TIME ZONE 'UTC', 'YYYY-MM') AS month,
           MAX(end_at - start_at) AS longest
    FROM usage_records GROUP BY 1, 2
) AS m
WHERE m.option_id = t.option_id AND m.month = t.month;
