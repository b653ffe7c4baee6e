DROP INDEX IF EXISTS bookings_source_live;
