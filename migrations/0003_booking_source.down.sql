DROP INDEX IF EXISTS bookings_source_upcoming;
ALTER TABLE bookings DROP COLUMN IF EXISTS source;
