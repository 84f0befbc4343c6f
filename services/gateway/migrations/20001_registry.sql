-- The partner registry: municipalities, districts, organisations, childcare locations, schools.
-- Organisation data only; no personal data. Lives in the `registry` schema (search_path).

CREATE TABLE municipalities (
    cbs_code    char(4) PRIMARY KEY CHECK (cbs_code ~ '^[0-9]{4}$'),
    name        text NOT NULL
);

CREATE TABLE districts (
    municipality char(4) NOT NULL REFERENCES municipalities (cbs_code),
    name         text NOT NULL CHECK (length(name) > 0),
    PRIMARY KEY (municipality, name)
);

CREATE TABLE organisations (
    -- The id as it appears in an actor: OIN, KvK number, BRIN+vestiging or LRK number.
    id                text PRIMARY KEY,
    id_kind           text NOT NULL CHECK (id_kind IN ('oin', 'kvk', 'brin', 'lrk')),
    organisation_type text NOT NULL,
    name              text NOT NULL,
    municipality      char(4) NOT NULL REFERENCES municipalities (cbs_code),
    district          text,
    -- What professionals can contact this organisation for (sociale kaart).
    services          text[] NOT NULL DEFAULT '{}',
    contact_phone     text,
    contact_email     text,
    website           text,
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX organisations_type ON organisations (organisation_type, municipality);

CREATE TABLE childcare_locations (
    lrk             text PRIMARY KEY CHECK (lrk ~ '^[0-9]{9,12}$'),
    organisation_id text REFERENCES organisations (id),
    name            text NOT NULL,
    municipality    char(4) NOT NULL REFERENCES municipalities (cbs_code),
    district        text,
    vve             boolean NOT NULL DEFAULT false,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE schools (
    brin            char(4) NOT NULL CHECK (brin ~ '^[0-9]{2}[A-Z]{2}$'),
    vestiging       char(2) NOT NULL CHECK (vestiging ~ '^[0-9]{2}$'),
    sector          text NOT NULL CHECK (sector IN ('po', 'vo')),
    name            text NOT NULL,
    municipality    char(4) NOT NULL REFERENCES municipalities (cbs_code),
    district        text,
    pupils          integer CHECK (pupils >= 0),
    -- "schoolscore met drempel"; 0 is a real value (no weighted-pupil surplus), NULL is unknown.
    school_score    numeric(10, 2) CHECK (school_score >= 0),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (brin, vestiging)
);
