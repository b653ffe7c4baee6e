-- Wait-list fixes (second review).
-- waitlist_offers.outbox_id: the offer's message, given up when the offer ends
--   before a sender took it (the entry booked or left, the hold released or
--   lapsed); NULL for offers made before this migration.
ALTER TABLE waitlist_offers ADD COLUMN outbox_id bigint;
