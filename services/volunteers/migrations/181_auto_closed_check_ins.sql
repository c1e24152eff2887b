-- Check-ins closed at shift end because nobody checked out are few: the 双报告 asks of each
-- member's shift whether theirs was one, and the organisers' list shows them. Found here,
-- not by reading every check-in (the planner did so once it expected none).
CREATE INDEX check_ins_auto_closed ON volunteers.check_ins (shift_id, volunteer_id) WHERE auto_closed;
