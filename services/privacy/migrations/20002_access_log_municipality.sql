-- The tenant of each access-log entry: a municipality's privacy officer sees only its own.
-- Part of the hashed fields of every entry.
ALTER TABLE access_log ADD COLUMN municipality text NOT NULL DEFAULT '';
CREATE INDEX access_log_municipality ON access_log (municipality, seq);
