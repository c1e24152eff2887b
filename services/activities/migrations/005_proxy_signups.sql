-- A sign-up a grid worker made for a resident names them: the resident remains the one signed up.
ALTER TABLE activities.signups ADD COLUMN proxy_id text;
