-- The 双报告 and the service-hours totals on a city's worth of data (bench/README.md, "City-sized
-- data"): a report looks up, per (shift, volunteer), whether the member came and what the ledger
-- credits them; takes the shifts that started in its period; counts the wishes members met
-- through their claims; the totals join the ledger to the community's shifts. Without these,
-- each read went through whole tables (100,000 shifts, 2,000,000 ledger entries): 0.4-2 s.
CREATE INDEX check_ins_by_shift_volunteer ON volunteers.check_ins (shift_id, volunteer_id);
CREATE INDEX ledger_by_shift_volunteer ON volunteers.ledger (shift_id, volunteer_id);
CREATE INDEX shifts_by_start ON volunteers.shifts (starts_at);
CREATE INDEX wish_claims_by_claimant ON volunteers.wish_claims (claimant_id);
CREATE INDEX wishes_met_by_claim ON volunteers.wishes (claim_id) WHERE status = 'MET';
