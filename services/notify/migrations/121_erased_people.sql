-- People whose account was deleted (PIPL): an event still on its way to them (a confirmation, a
-- log-in's default SMS choice) writes nothing for them once they are here.
CREATE TABLE notify.erased_people (
    person_id  text PRIMARY KEY,
    erased_at  timestamptz NOT NULL DEFAULT now()
);
