-- Duplicate detection: one record per child per municipality, by a keyed pseudonym of the BSN
-- (never the BSN itself). Rows are deleted when the child's subject is erased.
CREATE TABLE vve_child_index (
    municipality   text        NOT NULL,
    bsn_pseudonym  text        NOT NULL,
    child_id       uuid        NOT NULL UNIQUE,
    registered_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (municipality, bsn_pseudonym)
);
