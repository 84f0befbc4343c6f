-- VVE reach read models. No personal data in plaintext: BSN, name, postcode, birth date and the
-- indication's criteria stay sealed with the child's key (the `Sealed` JSON of the events) and
-- are opened at query time, so destroying the key makes them unreadable here too. Every row is
-- deleted when the child's subject is erased (vve_erased keeps only the pseudonymous id, so that
-- a late event cannot bring a child back).
CREATE TABLE vve_children (
    child_id          uuid PRIMARY KEY,
    municipality      text    NOT NULL,
    district          text    NOT NULL,
    jgz_organisation  text    NOT NULL,
    registered_on     date    NOT NULL,
    personal          jsonb   NOT NULL,
    birth_date        jsonb   NOT NULL,
    declined_on       date,
    declined_reason   text,
    moved_on          date
);
CREATE INDEX vve_children_jgz ON vve_children (municipality, jgz_organisation);

CREATE TABLE vve_indications (
    indication_id     uuid PRIMARY KEY,
    child_id          uuid    NOT NULL,
    issued_on         date    NOT NULL,
    definition_year   integer NOT NULL,
    criteria          jsonb   NOT NULL,
    withdrawn_on      date,
    withdrawal_reason text
);
CREATE INDEX vve_indications_child ON vve_indications (child_id);

CREATE TABLE vve_referrals (
    referral_id       uuid PRIMARY KEY,
    child_id          uuid    NOT NULL,
    location          text    NOT NULL,
    referred_on       date    NOT NULL,
    registry_checked  boolean NOT NULL,
    accepted_on       date,
    waitlisted_on     date,
    expected_start    date
);
CREATE INDEX vve_referrals_child ON vve_referrals (child_id);
CREATE INDEX vve_referrals_location ON vve_referrals (location);

CREATE TABLE vve_outreach (
    child_id          uuid    NOT NULL,
    version           bigint  NOT NULL,
    attempted_on      date    NOT NULL,
    channel           text    NOT NULL,
    outcome           text    NOT NULL,
    PRIMARY KEY (child_id, version)
);

CREATE TABLE vve_placements (
    placement_id      uuid PRIMARY KEY,
    child_id          uuid     NOT NULL,
    location          text     NOT NULL,
    start_on          date     NOT NULL,
    end_on            date,
    end_reason        text,
    referral_id       uuid
);
CREATE INDEX vve_placements_child ON vve_placements (child_id);
CREATE INDEX vve_placements_location ON vve_placements (location);

CREATE TABLE vve_placement_hours (
    placement_id      uuid     NOT NULL,
    child_id          uuid     NOT NULL,
    from_on           date     NOT NULL,
    hours_per_week    smallint NOT NULL,
    PRIMARY KEY (placement_id, from_on)
);
CREATE INDEX vve_placement_hours_child ON vve_placement_hours (child_id);

CREATE TABLE vve_attendance (
    placement_id      uuid    NOT NULL,
    child_id          uuid    NOT NULL,
    month             text    NOT NULL,
    hours             integer NOT NULL,
    PRIMARY KEY (placement_id, month)
);
CREATE INDEX vve_attendance_child ON vve_attendance (child_id);

CREATE TABLE vve_erased (
    child_id          uuid PRIMARY KEY,
    erased_at         timestamptz NOT NULL DEFAULT now()
);
