ALTER TABLE meta_events DROP CONSTRAINT meta_events_booking_fk;
