-- A booking's short reference (6 characters of an unambiguous alphabet, unique
-- in its salon, said in the booked message) and the random token of its
-- calendar file's address (/booking/<token>.ics). Made on first use.
CREATE TABLE booking_refs (
    booking_id uuid PRIMARY KEY REFERENCES bookings ON DELETE CASCADE,
    salon_id   text NOT NULL REFERENCES salons,
    reference  text NOT NULL CHECK (reference ~ '^[ACDEFHJKMNPRTUVWXY34679]{6}$'),
    token      text NOT NULL UNIQUE CHECK (length(token) >= 22),
    UNIQUE (salon_id, reference)
);

-- Looking a booking up by its reference and phone (from another device) is
-- counted per hour, per chat and per reference: one upsert returns the count
-- before the lookup runs.
CREATE TABLE ref_lookups (
    salon_id text NOT NULL REFERENCES salons,
    key      text NOT NULL, -- chat:<channel>:<chat id> or ref:<reference>
    since    timestamptz NOT NULL,
    n        integer NOT NULL,
    PRIMARY KEY (salon_id, key)
);
