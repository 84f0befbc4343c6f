-- The register of erasure and subject-access requests (AVG art. 17 and 15). The request streams
-- (stream type `privacyverzoek`) are the source of truth; this table follows their events in the
-- same transaction, for the privacy officer's list. No personal data: the pseudonymous subject
-- id, organisation ids and codes.
CREATE TABLE requests (
    request            uuid PRIMARY KEY,
    kind               text        NOT NULL,
    subject            uuid        NOT NULL,
    municipality       text        NOT NULL,
    requester          text        NOT NULL,
    received_on        date        NOT NULL,
    deadline           date        NOT NULL,
    status             text        NOT NULL,
    reason             text,
    refused_under_hold text,
    filed_by           text        NOT NULL,
    filed_at           timestamptz NOT NULL,
    decided_at         timestamptz,
    decided_by         text
);
CREATE INDEX requests_list ON requests (municipality, kind, status, deadline);
CREATE INDEX requests_subject ON requests (subject);
