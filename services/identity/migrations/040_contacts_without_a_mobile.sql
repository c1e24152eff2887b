-- Residents without a mobile phone of their own, registered by a grid worker or the desk: an
-- elder reached on a landline, through a family member's phone (and whose it is), or only by a
-- visit. ``phone`` stays the log-in number (and the only one ever texted): such residents have
-- none, and their number, if any, is kept in ``contact_phone``.
ALTER TABLE identity.residents ALTER COLUMN phone DROP NOT NULL;
ALTER TABLE identity.residents
    ADD COLUMN contact_kind  text NOT NULL DEFAULT 'mobile'
                             CHECK (contact_kind IN ('mobile', 'landline', 'family', 'none')),
    ADD COLUMN contact_phone text,
    ADD COLUMN contact_owner text NOT NULL DEFAULT '';
ALTER TABLE identity.residents ADD CONSTRAINT residents_mobile_is_the_login_phone
    CHECK ((contact_kind = 'mobile') = (phone IS NOT NULL));
-- found again at the desk by name and address (or number) within the community
CREATE INDEX residents_without_mobile ON identity.residents (community_id, name) WHERE phone IS NULL;
