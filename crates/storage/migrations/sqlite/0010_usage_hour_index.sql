-- Usage records found by the hour they start in, then by option, instead of by option first.
-- Records arrive roughly in time order, so each batch now writes into the few index pages of
-- the latest hours; an index led by the option put every SIM's records on pages of their own
-- and a batch rewrote one page per SIM (tens of thousands per batch, each copied through the
-- WAL into the file). Reading one option's month costs one lookup per hour (744 at most),
-- which only views and throttle replays do. PostgreSQL keeps its index by option.
DROP INDEX usage_records_option;
CREATE INDEX usage_records_hour ON usage_records (start_at / 3600000000, option_id);
