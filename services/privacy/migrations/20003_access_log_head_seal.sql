-- A keyed seal over the chain's head (HMAC with a key that is not in the database), so that
-- someone who can write the database but not read the service's configuration cannot rewrite
-- the chain and its head consistently.
ALTER TABLE access_log_head ADD COLUMN seal text;
