-- What happens after a booking (issue 13): the salon's reminder offsets, how long
-- a wait-list offer holds a freed time, and when masters get their morning
-- summary; and the client's "I'll come" on the booking.
--   reminders_seconds: offsets before the start, longest first; '{}' is off
--   waitlist_offer_seconds: the hold an offered time gets
--   staff_summary_minute: minutes after local midnight, at most 12:00 (the
--     summary lists the day ahead); NULL is off, and the default: an upgraded
--     salon gets no summaries until its file asks for them
ALTER TABLE salons
    ADD COLUMN reminders_seconds integer[] NOT NULL DEFAULT '{86400,7200}',
    ADD COLUMN waitlist_offer_seconds integer NOT NULL DEFAULT 900 CHECK (waitlist_offer_seconds > 0),
    ADD COLUMN staff_summary_minute integer CHECK (staff_summary_minute BETWEEN 0 AND 720);

-- When the client said "I'll come" (from a reminder); NULL until then.
ALTER TABLE bookings ADD COLUMN coming_at timestamptz;
