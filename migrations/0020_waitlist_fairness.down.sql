DROP INDEX IF EXISTS bookings_held_expiry;
ALTER TABLE waitlist_offers DROP COLUMN IF EXISTS ends_at;
