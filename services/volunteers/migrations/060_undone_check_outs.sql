-- An organiser may undo a mistaken check-out within the shift. The closed check-in is kept and
-- marked undone (it no longer counts as attendance), a new open check-in continues from the same
-- arrival, and a correction in the ledger takes back what the mistaken check-out credited.
ALTER TABLE volunteers.check_ins
    ADD COLUMN undone_at timestamptz,
    ADD COLUMN undone_by text,
    ADD COLUMN continues uuid REFERENCES volunteers.check_ins (id),
    ADD CONSTRAINT undone_only_when_closed CHECK (undone_at IS NULL OR checked_out_at IS NOT NULL);
