-- append_events also returns the stream the command id belongs to: a retried command whose
-- handler made up a new stream id gets the first try's stream back, not its own.
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
    p_metadata     jsonb[]
) RETURNS TABLE (stream_id uuid, version bigint, "position" bigint, first_time boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_current bigint;
    v_last_position bigint;
    v_n int := cardinality(p_event_ids);
BEGIN
    IF p_command_id IS NOT NULL THEN
        RETURN QUERY SELECT c.stream_id, c.version, c.position, false FROM commands c WHERE c.command_id = p_command_id;
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

    RETURN QUERY SELECT p_stream_id, v_current + v_n, v_last_position, true;
END;
$$;
