-- A chat's live bookings, for the limits (Book marks the chat's lapsed holds
-- expired, then counts its upcoming bookings): with no statistics both took
-- bookings_no_client_overlap on salon_id alone and read every booking of the
-- salon. This one reads only the chat's live rows, whatever the statistics say.
CREATE INDEX bookings_source_live ON bookings (salon_id, source, ends_at)
    WHERE status IN ('held', 'confirmed') AND source <> '';
