-- Meta Conversions API fixes (issue 18 review): an event belongs to its
-- booking, and goes with it. Events of bookings gone already (none are
-- deleted but with their salon) are removed first.
DELETE FROM meta_events e WHERE NOT EXISTS (SELECT 1 FROM bookings b WHERE b.booking_id = e.booking_id);
ALTER TABLE meta_events ADD CONSTRAINT meta_events_booking_fk
    FOREIGN KEY (booking_id) REFERENCES bookings ON DELETE CASCADE;
