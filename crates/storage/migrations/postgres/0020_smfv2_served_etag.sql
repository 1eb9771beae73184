-- The ETag of the configuration the SMFv2 RS last served each unit (issue 18), so a node that
-- restarted, or another node, knows what a device holds when its push tunnel comes back and
-- sends `pull-config` for a revision saved while it was away.
ALTER TABLE smfv2_identities ADD COLUMN served_etag TEXT;
