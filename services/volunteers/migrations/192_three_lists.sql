-- 三张清单 and 认领事项 (see services/volunteers/lists.py): resources, needs and projects of a
-- community; partner units claim project items, alone or each taking a part.
CREATE TABLE volunteers.list_items (
    id           uuid PRIMARY KEY,
    community_id text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('RESOURCE', 'NEED', 'PROJECT')),
    title        text NOT NULL,
    details      text NOT NULL DEFAULT '',
    partner_id   uuid REFERENCES volunteers.partner_organisations (id),  -- a resource's provider
    due_on       date,
    status       text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'CLAIMED', 'DONE', 'CLOSED')),
    closed_by    text,
    closed_at    timestamptz,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL
);
CREATE INDEX list_items_of_community ON volunteers.list_items (community_id, kind, created_at);

CREATE TABLE volunteers.item_claims (
    item_id    uuid NOT NULL REFERENCES volunteers.list_items (id),
    partner_id uuid NOT NULL REFERENCES volunteers.partner_organisations (id),
    part       text NOT NULL DEFAULT '',   -- a shared claim: what this unit takes on
    claimed_by text NOT NULL,
    claimed_at timestamptz NOT NULL,
    done_note  text,
    done_at    timestamptz,
    PRIMARY KEY (item_id, partner_id)
);
CREATE INDEX item_claims_by_time ON volunteers.item_claims (claimed_at);
