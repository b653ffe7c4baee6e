-- Wait-list fixes (issue 13 review).
-- waitlist_offers.ends_at: an entry is never offered a start whose
--   [start, start + duration) overlaps a time it was offered before (not only
--   the same start: 10:15 after a lapsed 10:00 is the same hour again).
-- bookings_held_expiry: the expiry job's NextExpiry and ExpireDue read a
--   salon's holds by expiry; with no statistics and generic plans they took
--   the exclusion constraints' salon_id index and read every live booking.
ALTER TABLE waitlist_offers ADD COLUMN ends_at timestamptz;
UPDATE waitlist_offers o SET ends_at = b.ends_at FROM bookings b WHERE b.booking_id = o.booking_id;
UPDATE waitlist_offers SET ends_at = starts_at WHERE ends_at IS NULL;
ALTER TABLE waitlist_offers ALTER COLUMN ends_at SET NOT NULL;

CREATE INDEX bookings_held_expiry ON bookings (salon_id, hold_expires_at) WHERE status = 'held';
