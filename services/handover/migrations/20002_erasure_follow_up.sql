-- Subjects the privacy service erased (a file's own subject, or a child files refer to): their
-- files answer 410. Only pseudonymous ids.
CREATE TABLE erased_subjects (
    subject    uuid PRIMARY KEY,
    erased_at  timestamptz NOT NULL DEFAULT now()
);

-- Files whose key must be destroyed besides refusals: the child was erased (AVG art. 17) or the
-- file's retention ended. Done when privacy_requests_done has (file_id, 'erase').
CREATE TABLE erase_requests (
    file_id       uuid PRIMARY KEY,
    grounds       text        NOT NULL CHECK (grounds IN ('verzoek-betrokkene', 'bewaartermijn')),
    requested_at  timestamptz NOT NULL DEFAULT now()
);
