-- Blocks and their history go: a block has no client, which the old schema
-- does not allow.
DROP TABLE IF EXISTS booking_changes;
DROP INDEX IF EXISTS bookings_no_shows;
DELETE FROM calendar_events e USING bookings b WHERE b.booking_id = e.booking_id AND b.kind = 'block';
DELETE FROM bookings WHERE kind = 'block';
ALTER TABLE bookings
    DROP CONSTRAINT IF EXISTS bookings_attendance,
    DROP CONSTRAINT IF EXISTS bookings_kind_fields,
    DROP CONSTRAINT IF EXISTS bookings_kind,
    DROP COLUMN IF EXISTS attendance_at,
    DROP COLUMN IF EXISTS attendance,
    DROP COLUMN IF EXISTS note,
    DROP COLUMN IF EXISTS kind,
    ALTER COLUMN service_id SET NOT NULL,
    ALTER COLUMN client_id SET NOT NULL;
