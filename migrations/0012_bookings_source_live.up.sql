-- A chat's live bookings, for the limits (Book marks the chat's lapsed holds
-- expired, then counts its upcoming bookings): with no statistics both took an
-- exclusion constraint's index on salon_id alone and read every live booking of
-- the salon. The predicate says "live" as the limits' statements do, NOT IN the
-- two other statuses, which the exclusion indexes' predicate is not implied by.
CREATE INDEX bookings_source_live ON bookings (salon_id, source, ends_at)
    WHERE status NOT IN ('cancelled', 'expired') AND source <> '';
