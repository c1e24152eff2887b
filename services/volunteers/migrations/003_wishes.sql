-- 微心愿: residents' small wishes and the claims on them (see services/volunteers/wishes.py).
CREATE TABLE volunteers.wishes (
    id               uuid PRIMARY KEY,
    community_id     text NOT NULL,
    festival_id      text,
    category         text NOT NULL,
    description      text NOT NULL,
    building         text NOT NULL,
    resident_id      text NOT NULL,  -- whose wish it is
    posted_by        text NOT NULL,  -- the resident, or the grid worker who posted for them
    status           text NOT NULL DEFAULT 'POSTED' CHECK (status IN
        ('POSTED', 'APPROVED', 'DECLINED', 'MERGED', 'PUBLISHED', 'CLAIMED', 'DONE', 'MET')),
    merged_into      uuid REFERENCES volunteers.wishes (id),
    decline_reason   text,
    reviewed_by      text,
    published_at     timestamptz,
    claim_id         uuid,           -- the claim holding it while CLAIMED or DONE
    claimant_id      text,
    claim_expires_at timestamptz,
    started_at       timestamptz,
    done_at          timestamptz,
    done_note        text,
    photo_url        text,
    confirmed_by     text,
    met_at           timestamptz,
    created_at       timestamptz NOT NULL,
    CHECK (status <> 'CLAIMED' OR claimant_id IS NOT NULL),
    CHECK (status <> 'MERGED' OR merged_into IS NOT NULL),
    CHECK (status <> 'DECLINED' OR decline_reason IS NOT NULL)
);
CREATE INDEX wishes_wall ON volunteers.wishes (community_id, status, published_at);
CREATE INDEX wishes_posted ON volunteers.wishes (community_id, created_at);
CREATE INDEX wishes_expiring ON volunteers.wishes (claim_expires_at)
    WHERE status = 'CLAIMED' AND started_at IS NULL;

-- Every claim ever made; the one ACTIVE claim of a wish is also named on the wish.
CREATE TABLE volunteers.wish_claims (
    id            uuid PRIMARY KEY,
    wish_id       uuid NOT NULL REFERENCES volunteers.wishes (id),
    claimant_id   text NOT NULL,
    claimant_kind text NOT NULL CHECK (claimant_kind IN ('PARTY_MEMBER', 'PARTNER', 'VOLUNTEER')),
    organisation  text,           -- the party member's work unit, or the partner organisation
    status        text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'EXPIRED', 'MET')),
    claimed_at    timestamptz NOT NULL,
    ended_at      timestamptz,
    CHECK (claimant_kind = 'VOLUNTEER' OR organisation IS NOT NULL)
);
-- one claimant at a time (the conditional update on the wish decides; this is the backstop)
CREATE UNIQUE INDEX wish_claims_one_active ON volunteers.wish_claims (wish_id) WHERE status = 'ACTIVE';
CREATE INDEX wish_claims_by_time ON volunteers.wish_claims (claimed_at);
