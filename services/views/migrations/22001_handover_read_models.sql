-- Handover read models. No personal data in plaintext: the child's identity and every part of
-- the file's content stay sealed with the file's own key (the `Sealed` JSON of the events) and
-- are opened at query time. When the file's subject (or the child it refers to) is erased, or
-- the file's retention ends, its ho_files row is deleted and its id kept in ho_erased so that a
-- late event cannot bring it back.
CREATE TABLE ho_files (
    file_id          uuid PRIMARY KEY,
    kind             text    NOT NULL,              -- voorschool | po-vo
    municipality     text    NOT NULL,
    sender           text    NOT NULL,              -- LRK number or school location code
    child_id         uuid,
    drafted_on       date    NOT NULL,
    school_year      text,
    warm_wanted      boolean NOT NULL DEFAULT false,
    informed_on      date,
    consent          text    NOT NULL DEFAULT 'open', -- open | gegeven | geweigerd
    enrolled_school  text,
    sent_to          text,                          -- school location code
    sent_on          date,
    confirmed_on     date,
    overdue          boolean NOT NULL DEFAULT false,
    warm_planned_on  date,
    warm_held_on     date,
    year3            text,
    reconsideration_due boolean NOT NULL DEFAULT false,
    child_sealed     jsonb   NOT NULL,
    content_sealed   jsonb   NOT NULL,
    provisional_sealed     jsonb,
    test_sealed            jsonb,
    reconsideration_sealed jsonb,
    final_sealed           jsonb,
    responses_sealed jsonb   NOT NULL DEFAULT '[]'
);
CREATE INDEX ho_files_sender ON ho_files (sender);
CREATE INDEX ho_files_sent_to ON ho_files (sent_to) WHERE sent_to IS NOT NULL;
CREATE INDEX ho_files_child ON ho_files (child_id) WHERE child_id IS NOT NULL;

-- The municipality's monitor facts: process facts only (kinds, organisation ids, dates, the
-- refusal's reason category, the year-3 position), no content and no link to a child. They stay
-- after the file's erasure: parents' refusals must remain countable, and once the file's key is
-- gone the pseudonymous file id links to nothing.
CREATE TABLE ho_facts (
    file_id         uuid PRIMARY KEY,
    kind            text    NOT NULL,
    municipality    text    NOT NULL,
    sender          text    NOT NULL,
    year            integer NOT NULL,
    school          text,
    consent         text    NOT NULL DEFAULT 'open',
    refusal_reason  text,
    sent_on         date,
    confirmed_on    date,
    warm_held       boolean NOT NULL DEFAULT false,
    year3           text
);
CREATE INDEX ho_facts_municipality ON ho_facts (municipality, year);

CREATE TABLE ho_erased (
    file_id    uuid PRIMARY KEY,
    erased_at  timestamptz NOT NULL DEFAULT now()
);
