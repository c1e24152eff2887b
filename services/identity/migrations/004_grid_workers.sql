-- Grid workers (网格员) and desk staff: a staff role scoped to a community, acting for residents
-- who cannot use a phone. Such a resident may exist before ever logging in.
ALTER TABLE identity.staff_roles DROP CONSTRAINT staff_roles_role_check;
ALTER TABLE identity.staff_roles ADD CONSTRAINT staff_roles_role_check
    CHECK (role IN ('organiser', 'community_admin', 'scanner', 'grid_worker'));
ALTER TABLE identity.residents ALTER COLUMN last_login_at DROP NOT NULL;
ALTER TABLE identity.residents ADD COLUMN created_by text;  -- the grid worker, if one made it
