-- Casework ("1 gezin 1 plan") read models. No personal data in plaintext: household members and
-- every free text of the plan stay sealed with the family's key (the `Sealed` JSON of the events)
-- and are opened at query time. Consent rows keep their dates so that every query decides, with
-- that day's date, what an organisation may see. Every row of a family is deleted when its
-- subject is erased or its retention ends (cw_erased keeps only the pseudonymous id, so that a
-- late or replayed event cannot bring the case back).
CREATE TABLE cw_cases (
    case_id                uuid PRIMARY KEY,
    municipality           text    NOT NULL,
    district               text    NOT NULL,
    director_organisation  text    NOT NULL,
    director               text    NOT NULL,
    opened_on              date    NOT NULL,
    household              jsonb   NOT NULL,
    direction_budget_hours integer NOT NULL,
    strengths              jsonb,
    network                jsonb,
    safety_plan            jsonb,
    plan_version           integer NOT NULL DEFAULT 0,
    first_plan_on          date,
    last_plan_on           date,
    last_review_held_on    date,
    closed_on              date,
    outcome                text,
    closing_note           jsonb
);
CREATE INDEX cw_cases_director ON cw_cases (municipality, director_organisation);

CREATE TABLE cw_participants (
    case_id           uuid NOT NULL,
    organisation      text NOT NULL,
    organisation_type text NOT NULL,
    joined_on         date NOT NULL,
    left_on           date,
    PRIMARY KEY (case_id, organisation)
);
CREATE INDEX cw_participants_org ON cw_participants (organisation);

CREATE TABLE cw_consents (
    consent_id   uuid PRIMARY KEY,
    case_id      uuid   NOT NULL,
    organisation text   NOT NULL,
    scope        text[] NOT NULL,
    purpose      text   NOT NULL,
    granted_on   date   NOT NULL,
    valid_until  date   NOT NULL,
    granted_by   text   NOT NULL,
    revoked_on   date
);
CREATE INDEX cw_consents_case_org ON cw_consents (case_id, organisation);

CREATE TABLE cw_concerns (
    concern_id  uuid PRIMARY KEY,
    case_id     uuid  NOT NULL,
    priority    text  NOT NULL,
    description jsonb NOT NULL,
    recorded_on date  NOT NULL
);
CREATE INDEX cw_concerns_case ON cw_concerns (case_id);

CREATE TABLE cw_goals (
    goal_id     uuid PRIMARY KEY,
    case_id     uuid  NOT NULL,
    concern_id  uuid,
    description jsonb NOT NULL,
    target_date date  NOT NULL,
    set_on      date  NOT NULL,
    status      text  NOT NULL,
    status_on   date
);
CREATE INDEX cw_goals_case ON cw_goals (case_id);

CREATE TABLE cw_actions (
    action_id    uuid PRIMARY KEY,
    case_id      uuid  NOT NULL,
    goal_id      uuid  NOT NULL,
    organisation text  NOT NULL,
    description  jsonb NOT NULL,
    due_on       date  NOT NULL,
    assigned_on  date  NOT NULL,
    status       text  NOT NULL,
    status_on    date
);
CREATE INDEX cw_actions_case ON cw_actions (case_id);
CREATE INDEX cw_actions_org ON cw_actions (organisation);

CREATE TABLE cw_reviews (
    review_id  uuid PRIMARY KEY,
    case_id    uuid NOT NULL,
    planned_on date NOT NULL,
    held_on    date,
    minutes    jsonb
);
CREATE INDEX cw_reviews_case ON cw_reviews (case_id);

CREATE TABLE cw_hours (
    case_id         uuid    NOT NULL,
    organisation    text    NOT NULL,
    minutes_regie   bigint  NOT NULL DEFAULT 0,
    minutes_support bigint  NOT NULL DEFAULT 0,
    budget_hours    integer,
    PRIMARY KEY (case_id, organisation)
);

CREATE TABLE cw_escalations (
    escalation_id uuid PRIMARY KEY,
    case_id       uuid   NOT NULL,
    reported_on   date   NOT NULL,
    reported_by   text   NOT NULL,
    parties       text[] NOT NULL,
    legal_ground  text   NOT NULL,
    report        jsonb  NOT NULL
);
CREATE INDEX cw_escalations_case ON cw_escalations (case_id);

CREATE TABLE cw_erased (
    case_id uuid PRIMARY KEY
);
