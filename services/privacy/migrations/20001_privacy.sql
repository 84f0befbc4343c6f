-- The privacy service's own tables, next to the runtime's event store in schema `privacy`.
-- The subject streams (stream type `betrokkene`) are the source of truth for holds, retention
-- and erasure; `subjects` and `retention_periods` are maintained in the same transaction as the
-- events they follow, for the scheduler and the reports.

-- One data key per subject, wrapped by the master key `master_key_id`. Erasure deletes the row.
CREATE TABLE subject_keys (
    subject       uuid PRIMARY KEY,
    key_version   integer     NOT NULL,
    master_key_id integer     NOT NULL,
    wrapped       bytea       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    rewrapped_at  timestamptz
);
CREATE INDEX subject_keys_master ON subject_keys (master_key_id);

-- Every subject the service knows, erased ones included (they answer "erased", never "unknown").
CREATE TABLE subjects (
    subject       uuid PRIMARY KEY,
    subject_kind  text        NOT NULL,
    municipality  text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    hold_reason   text,
    hold_since    timestamptz,
    erased_at     timestamptz,
    erasure_grounds text
);
CREATE INDEX subjects_held ON subjects (subject) WHERE hold_reason IS NOT NULL;

-- When the retention period of each kind of a subject's data starts, and whether it has ended.
CREATE TABLE retention_periods (
    subject    uuid        NOT NULL REFERENCES subjects (subject),
    data_kind  text        NOT NULL,
    start_date date        NOT NULL,
    ended_at   timestamptz,
    PRIMARY KEY (subject, data_kind)
);

-- The NEN 7513 access log: append-only, each row chained to the one before by a SHA-256 hash over
-- its canonical fields and the previous hash. `seq` is gapless (assigned under the head lock).
CREATE TABLE access_log (
    seq               bigint PRIMARY KEY,
    logged_at         timestamptz NOT NULL,
    event             text        NOT NULL,
    occurred_at       timestamptz NOT NULL,
    user_pseudonym    text        NOT NULL,
    organisation      text        NOT NULL,
    organisation_type text        NOT NULL,
    role              text        NOT NULL,
    purpose           text        NOT NULL,
    subject           uuid,
    access_point      text        NOT NULL,
    outcome           text        NOT NULL,
    trace_id          text,
    prev_hash         bytea       NOT NULL,
    hash              bytea       NOT NULL
);
CREATE INDEX access_log_subject ON access_log (subject, seq) WHERE subject IS NOT NULL;
CREATE INDEX access_log_user ON access_log (user_pseudonym, seq);
CREATE INDEX access_log_logged_at ON access_log (logged_at);

-- The chain's head: one row, locked FOR UPDATE by every append, so appends form one linear chain.
CREATE TABLE access_log_head (
    id   integer PRIMARY KEY CHECK (id = 1),
    seq  bigint NOT NULL,
    hash bytea  NOT NULL
);
INSERT INTO access_log_head (id, seq, hash) VALUES (1, 0, '\x0000000000000000000000000000000000000000000000000000000000000000');

-- Purges of entries past their retention: the chain is verified from the last checkpoint on.
-- Append-only too: each purge adds a row with the seq and hash of the last entry it removed.
CREATE TABLE access_log_checkpoints (
    seq       bigint PRIMARY KEY,
    hash      bytea       NOT NULL,
    purged    bigint      NOT NULL,
    purged_at timestamptz NOT NULL DEFAULT now()
);

-- The log is append-only: UPDATE and DELETE fail, except a purge that sets
-- `kansrijk.access_log_purge` for its own transaction. (A superuser can still tamper; the hash
-- chain is what detects it.)
CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('kansrijk.access_log_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the access log is append-only' USING ERRCODE = 'KR403';
END;
$$;
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_append_only();
CREATE TRIGGER access_log_checkpoints_append_only BEFORE UPDATE OR DELETE ON access_log_checkpoints
    FOR EACH ROW EXECUTE FUNCTION access_log_append_only();
