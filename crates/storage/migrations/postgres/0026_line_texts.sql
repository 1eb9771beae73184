-- What an invoice line says, as data (JSON of mpc_domain::billing::LineText), so the console can
-- write it in Japanese or English while the invoice keeps its Japanese `description`. Lines
-- stored before have none: their text is recovered from their other columns when read.
ALTER TABLE invoice_lines ADD COLUMN text TEXT;
ALTER TABLE pending_adjustments ADD COLUMN text TEXT;
