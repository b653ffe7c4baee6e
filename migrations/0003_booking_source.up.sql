-- Who asked for a booking: "api", or the chat that made it ("web:<session>",
-- "telegram:<chat id>"). A chat may list, move and cancel only the bookings it made:
-- knowing a client's phone number gives no access to their bookings.
ALTER TABLE bookings ADD COLUMN source text NOT NULL DEFAULT '';
CREATE INDEX bookings_source_upcoming ON bookings (salon_id, source, starts_at) WHERE source <> '';
