-- Follow-up requests to the privacy service that have been answered: destroying a refused
-- file's key ('erase') and starting its retention period ('retention'). What is still to do is
-- derived from the event store (refusals and confirmations without a row here), so a request is
-- never lost between the append and the call.
CREATE TABLE privacy_requests_done (
    subject  uuid        NOT NULL,
    action   text        NOT NULL CHECK (action IN ('erase', 'retention')),
    done_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subject, action)
);

CREATE INDEX events_handover_type ON events (event_type, stream_id);
