-- An append writes one row per event and nothing else (issue 2's store benchmark, BENCHMARKS.md):
-- 1. The command id moves from the separate `commands` table onto the last event the command
--    appended (a partial unique index; events without a command id stay unindexed). That event
--    carries exactly what `commands` held: the stream, its version after the command and the
--    command's last position.
-- 2. The event id becomes the primary key, and the index on `position` alone goes: no query
--    reads by position alone (the store is read in `(tx_id, position)` order through
--    events_tx_position, a stream by events_stream_version), so it was pure write cost.
--    `position` still comes from its sequence, unique and increasing as before.
ALTER TABLE events ADD COLUMN command_id uuid;

UPDATE events e SET command_id = c.command_id
FROM commands c
WHERE e.position = c.position;

CREATE UNIQUE INDEX events_command_id ON events (command_id) WHERE command_id IS NOT NULL;

DROP TABLE commands;

ALTER TABLE events DROP CONSTRAINT events_pkey;
ALTER TABLE events DROP CONSTRAINT events_event_id_key;
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (event_id);

-- The same contract as before (10003), with one metadata document for all events of the append
-- (they always shared it) and one multi-argument unnest instead of four joined ones.
DROP FUNCTION append_events(uuid, uuid, bigint, text, text, uuid[], text[], jsonb[], jsonb[]);

CREATE FUNCTION append_events(
    p_command_id   uuid,
    p_stream_id    uuid,
    p_expected     bigint,
    p_stream_type  text,
    p_municipality text,
    p_event_ids    uuid[],
    p_event_types  text[],
    p_data         jsonb[],
    p_metadata     jsonb
) RETURNS TABLE (stream_id uuid, version bigint, "position" bigint, first_time boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_current bigint;
    v_last_position bigint;
    v_n int := cardinality(p_event_ids);
BEGIN
    IF p_command_id IS NOT NULL THEN
        RETURN QUERY SELECT e.stream_id, e.version, e.position, false
            FROM events e WHERE e.command_id = p_command_id;
        IF FOUND THEN RETURN; END IF;
    END IF;

    -- The version check runs before the first write (see 10001): a later version's transaction
    -- id is always above that of the version it follows.
    SELECT coalesce(max(e.version), 0) INTO v_current FROM events e WHERE e.stream_id = p_stream_id;
    IF p_expected >= 0 AND v_current <> p_expected THEN
        RAISE EXCEPTION 'stream version is %, expected %', v_current, p_expected
            USING ERRCODE = 'KR409';
    END IF;

    WITH inserted AS (
        INSERT INTO events (event_id, stream_id, stream_type, version, event_type, municipality,
                            data, metadata, command_id)
        SELECT u.id, p_stream_id, p_stream_type, v_current + u.ord, u.t, p_municipality, u.d,
               p_metadata, CASE WHEN u.ord = v_n THEN p_command_id END
        FROM unnest(p_event_ids, p_event_types, p_data) WITH ORDINALITY AS u(id, t, d, ord)
        RETURNING events.position
    )
    SELECT max(inserted.position) INTO v_last_position FROM inserted;

    RETURN QUERY SELECT p_stream_id, v_current + v_n, v_last_position, true;
END;
$$;
