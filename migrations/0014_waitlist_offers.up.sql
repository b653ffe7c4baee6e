-- Wait-list offers (issue 13): a freed time held for the oldest fitting entry.
-- waitlist_offers: every offer made, one per hold (the booking, status 'held'
--   while the offer stands); an entry is never offered a start it was offered
--   before (declined or let lapse). The entry's row going (booked, left, its
--   day passed) takes its offers with it; the bookings stay.
-- waitlist_wakes: "a time may have freed" for the matcher, written in the
--   transaction that frees it (a cancel, a move away, an expired hold) and
--   drained by the matcher, which then looks at every waiting entry.
CREATE TABLE waitlist_offers (
    booking_id uuid PRIMARY KEY REFERENCES bookings,
    salon_id   text NOT NULL,
    entry_id   bigint NOT NULL REFERENCES waitlist ON DELETE CASCADE,
    starts_at  timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX waitlist_offers_entry ON waitlist_offers (entry_id, starts_at);

CREATE TABLE waitlist_wakes (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    salon_id text NOT NULL,
    woken_at timestamptz NOT NULL DEFAULT now()
);

-- The matcher reads a salon's entries from today on, oldest first.
CREATE INDEX waitlist_waiting ON waitlist (salon_id, day, id);
