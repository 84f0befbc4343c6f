-- Issue 16: a registration is one commit. The child-index row (20001) is written in the same
-- transaction as the child's first event, so a crash leaves both or neither; before this, the
-- row was committed on its own and a crash after it blocked the BSN for good.
--
-- A registration first reserves the child's id here (its own small commit, before the privacy
-- service is asked for the child's key and retention period), and every try for the same child
-- in the municipality (a retry with the same command id, a new command id after a crash, a
-- concurrent second try) uses the reserved id: they all ask for the same key and the same
-- retention period, so a try that dies half-way leaves nothing a retry does not reuse. A
-- reservation never blocks anyone: only the index row makes a BSN "already registered". The
-- reservation stays after the child is appended (a concurrent try that read the index just
-- before the append committed then gets the same id, not a new key of its own), and is deleted
-- when the child's subject is erased. Like the index, it holds a keyed pseudonym of the BSN, never the BSN.
CREATE TABLE vve_child_reservations (
    municipality   text        NOT NULL,
    bsn_pseudonym  text        NOT NULL,
    child_id       uuid        NOT NULL UNIQUE,
    reserved_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (municipality, bsn_pseudonym)
);
