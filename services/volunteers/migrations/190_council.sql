-- 邻里议事会: residents' concerns, council meetings and their invitations, decisions as tasks with
-- a cost split, progress notes and residents' ratings (see services/volunteers/council.py).
CREATE TABLE volunteers.concerns (
    id           uuid PRIMARY KEY,
    community_id text NOT NULL,
    building     text NOT NULL,           -- the building or place it is about, e.g. 3号楼
    words        text NOT NULL,
    photo_url    text,
    resident_id  text NOT NULL,           -- whose concern it is
    raised_by    text NOT NULL,           -- the resident, or the grid worker who raised it for them
    status       text NOT NULL DEFAULT 'RAISED' CHECK (status IN ('RAISED', 'DUPLICATE', 'HANDLED',
        'TO_COUNCIL', 'DECIDED', 'IN_PROGRESS', 'DONE', 'RATED')),
    duplicate_of uuid REFERENCES volunteers.concerns (id),
    triage_note  text,
    triaged_by   text,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    CHECK (status <> 'DUPLICATE' OR duplicate_of IS NOT NULL)
);
CREATE INDEX concerns_of_community ON volunteers.concerns (community_id, created_at);
CREATE INDEX concerns_of_resident ON volunteers.concerns (resident_id, created_at);

CREATE TABLE volunteers.council_meetings (
    id           uuid PRIMARY KEY,
    community_id text NOT NULL,
    title        text NOT NULL,
    starts_at    timestamptz NOT NULL,
    station_id   uuid NOT NULL,           -- identity.stations: where residents are told to come
    place        text NOT NULL,           -- the station's name and address when it was convened
    convened_by  text NOT NULL,
    minutes      text,                    -- the discussion, once recorded
    recorded_by  text,
    recorded_at  timestamptz,
    created_at   timestamptz NOT NULL
);
CREATE INDEX council_meetings_of_community ON volunteers.council_meetings (community_id, starts_at);

CREATE TABLE volunteers.meeting_concerns (
    meeting_id uuid NOT NULL REFERENCES volunteers.council_meetings (id),
    concern_id uuid NOT NULL REFERENCES volunteers.concerns (id),
    PRIMARY KEY (meeting_id, concern_id)
);

-- An invitee is a person (staff or resident id) or a partner organisation (its members hear).
CREATE TABLE volunteers.meeting_invitations (
    id          uuid PRIMARY KEY,
    meeting_id  uuid NOT NULL REFERENCES volunteers.council_meetings (id),
    role        text NOT NULL,
    person_id   text,
    partner_id  uuid REFERENCES volunteers.partner_organisations (id),
    name        text NOT NULL,            -- what the invitation is addressed to, e.g. 朔方物业
    reply       text CHECK (reply IN ('ACCEPT', 'DECLINE')),
    replied_by  text,
    replied_at  timestamptz,
    CHECK ((person_id IS NULL) <> (partner_id IS NULL))
);
CREATE UNIQUE INDEX meeting_invitations_person ON volunteers.meeting_invitations (meeting_id, person_id)
    WHERE person_id IS NOT NULL;
CREATE UNIQUE INDEX meeting_invitations_partner ON volunteers.meeting_invitations (meeting_id, partner_id)
    WHERE partner_id IS NOT NULL;
CREATE INDEX meeting_invitations_of_person ON volunteers.meeting_invitations (person_id);

-- Each decision of the minutes becomes a task.
CREATE TABLE volunteers.council_tasks (
    id               uuid PRIMARY KEY,
    meeting_id       uuid NOT NULL REFERENCES volunteers.council_meetings (id),
    concern_id       uuid NOT NULL REFERENCES volunteers.concerns (id),
    community_id     text NOT NULL,
    building         text NOT NULL,
    decision         text NOT NULL,
    owner_person_id  text,
    owner_partner_id uuid REFERENCES volunteers.partner_organisations (id),
    owner_name       text NOT NULL,       -- e.g. 朔方物业 or 网格员 王芳
    supervisor_id    text,                -- the resident who supervises the work
    supervisor_name  text,
    deadline         date NOT NULL,
    cost_total_fen   bigint NOT NULL DEFAULT 0 CHECK (cost_total_fen >= 0),
    votes_for        int,
    votes_against    int,
    votes_abstain    int,
    households       text[],               -- who raised a hand, one entry per household
    status           text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'IN_PROGRESS', 'DONE')),
    done_note        text,
    done_at          timestamptz,
    last_reminded_on date,
    created_at       timestamptz NOT NULL,
    CHECK ((owner_person_id IS NULL) <> (owner_partner_id IS NULL))
);
CREATE INDEX council_tasks_of_concern ON volunteers.council_tasks (concern_id);
CREATE INDEX council_tasks_open ON volunteers.council_tasks (deadline) WHERE status <> 'DONE';

CREATE TABLE volunteers.task_cost_shares (
    task_id  uuid NOT NULL REFERENCES volunteers.council_tasks (id),
    position int NOT NULL,
    party    text NOT NULL,
    fen      bigint NOT NULL CHECK (fen >= 0),
    PRIMARY KEY (task_id, position)
);

CREATE TABLE volunteers.task_notes (
    id         uuid PRIMARY KEY,
    task_id    uuid NOT NULL REFERENCES volunteers.council_tasks (id),
    author_id  text NOT NULL,
    note       text NOT NULL,
    photo_url  text,
    created_at timestamptz NOT NULL
);
CREATE INDEX task_notes_of_task ON volunteers.task_notes (task_id, created_at);

CREATE TABLE volunteers.task_ratings (
    task_id     uuid NOT NULL REFERENCES volunteers.council_tasks (id),
    resident_id text NOT NULL,
    stars       int NOT NULL CHECK (stars BETWEEN 1 AND 5),
    comment     text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (task_id, resident_id)
);
