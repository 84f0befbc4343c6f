-- The event store of one service, in that service's own schema (search_path).
-- position: taken at insert (bigserial), so rows become visible out of position order.
-- tx_id: the inserting transaction's id. Readers only read rows with tx_id below the oldest
-- running transaction (pg_snapshot_xmin) and order by (tx_id, position): a transaction that
-- commits late always has a tx_id at or above that horizon, so it is never skipped. See ADR 0002.
CREATE TABLE events (
    position     bigserial PRIMARY KEY,
    tx_id        bigint      NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    event_id     uuid        NOT NULL UNIQUE,
    stream_id    uuid        NOT NULL,
    stream_type  text        NOT NULL,
    version      bigint      NOT NULL CHECK (version > 0),
    event_type   text        NOT NULL,
    municipality text        NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    data         jsonb       NOT NULL,
    metadata     jsonb       NOT NULL,
    CONSTRAINT events_stream_version UNIQUE (stream_id, version)
);
CREATE INDEX events_tx_position ON events (tx_id, position);

-- Idempotency: the first result of each command id.
CREATE TABLE commands (
    command_id  uuid PRIMARY KEY,
    stream_id   uuid        NOT NULL,
    version     bigint      NOT NULL,
    position    bigint      NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);

-- How far the relay has published, in (tx_id, position) order.
CREATE TABLE relay_checkpoint (
    relay    text PRIMARY KEY,
    tx_id    bigint NOT NULL,
    position bigint NOT NULL
);

-- Appends events to one stream in one round trip. expected: -1 any, 0 no stream yet, n exact.
-- The version check runs before the first write, so the transaction id (assigned at the first
-- write) of a later version is always above that of the version it follows.
CREATE FUNCTION append_events(
    p_command_id   uuid,
    p_stream_id    uuid,
    p_expected     bigint,
    p_stream_type  text,
    p_municipality text,
    p_event_ids    uuid[],
    p_event_types  text[],
    p_data         jsonb[],
    p_metadata     jsonb[]
) RETURNS TABLE (version bigint, "position" bigint, first_time boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_current bigint;
    v_last_position bigint;
    v_n int := cardinality(p_event_ids);
BEGIN
    IF p_command_id IS NOT NULL THEN
        RETURN QUERY SELECT c.version, c.position, false FROM commands c WHERE c.command_id = p_command_id;
        IF FOUND THEN RETURN; END IF;
    END IF;

    SELECT coalesce(max(e.version), 0) INTO v_current FROM events e WHERE e.stream_id = p_stream_id;
    IF p_expected >= 0 AND v_current <> p_expected THEN
        RAISE EXCEPTION 'stream version is %, expected %', v_current, p_expected
            USING ERRCODE = 'KR409';
    END IF;

    WITH inserted AS (
        INSERT INTO events (event_id, stream_id, stream_type, version, event_type, municipality, data, metadata)
        SELECT ids.id, p_stream_id, p_stream_type, v_current + ids.ord, ty.t, p_municipality, da.d, md.m
        FROM unnest(p_event_ids) WITH ORDINALITY AS ids(id, ord)
        JOIN unnest(p_event_types) WITH ORDINALITY AS ty(t, ord) ON ty.ord = ids.ord
        JOIN unnest(p_data) WITH ORDINALITY AS da(d, ord) ON da.ord = ids.ord
        JOIN unnest(p_metadata) WITH ORDINALITY AS md(m, ord) ON md.ord = ids.ord
        RETURNING events.position
    )
    SELECT max(inserted.position) INTO v_last_position FROM inserted;

    IF p_command_id IS NOT NULL THEN
        INSERT INTO commands (command_id, stream_id, version, position)
        VALUES (p_command_id, p_stream_id, v_current + v_n, v_last_position);
    END IF;

    RETURN QUERY SELECT v_current + v_n, v_last_position, true;
END;
$$;
