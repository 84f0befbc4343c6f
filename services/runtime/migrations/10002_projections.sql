-- Bookkeeping of the projections a service runs (only the views service has any, but every
-- schema gets the tables so that any service can host a projection).

-- The last version of each stream a projection has applied: makes redelivery a no-op, detects
-- gaps, and lets the gateway wait until a write is visible.
CREATE TABLE projection_streams (
    projection text   NOT NULL,
    stream_id  uuid   NOT NULL,
    version    bigint NOT NULL,
    PRIMARY KEY (projection, stream_id)
);

-- The last JetStream sequence applied, for lag metrics and status.
CREATE TABLE projection_status (
    projection  text PRIMARY KEY,
    last_seq    bigint      NOT NULL DEFAULT 0,
    applied     bigint      NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Events that could not be applied: visible, counted, replayable.
CREATE TABLE parked_events (
    projection  text        NOT NULL,
    event_id    uuid        NOT NULL,
    stream_seq  bigint      NOT NULL,
    event_type  text        NOT NULL,
    error       text        NOT NULL,
    envelope    jsonb       NOT NULL,
    parked_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, event_id)
);
