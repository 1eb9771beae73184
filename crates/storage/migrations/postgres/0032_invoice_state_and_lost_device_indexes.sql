-- Invoices listed by state (B5: `GET /invoices?state=` and the console's lists): the state is
-- judged in the query from the status, the default and the due date, which this index reads
-- instead of every invoice; the count beside each page reads it too.
CREATE INDEX invoices_state ON invoices (status, defaulted_on, due_date);

-- The lost devices a find may be recorded for (R12.3), which the work queue offers on every
-- visit: few among every device that ever served.
CREATE INDEX devices_lost ON devices (lost_on);
