-- Lists filtered and counted (issue 17): the journal by date range and by actor, and a
-- contractor's requests by kind. Each list page runs one COUNT(*) with the same filters as
-- its rows, which these indexes keep from reading the whole table.
CREATE INDEX journal_at ON journal (at);
CREATE INDEX journal_actor ON journal (actor, seq);
CREATE INDEX requests_contractor_kind ON requests (contractor_id, kind, status);
