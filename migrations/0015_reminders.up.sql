-- Reminders of confirmed chat bookings (issue 13), scheduled in the booking's own
-- transaction (pipeline.Reminders.Record) and queued into the outbox by one
-- scheduler (pipeline.Reminders.Run) in the transaction that marks them sent.
-- One row per booking, start and offset: a replayed confirm schedules nothing
-- twice, and a reminder is queued at most once per booking and start.
--   starts_at: the booking's start it reminds of; a move deletes the unsent rows
--     of other starts, and the scheduler checks the booking still starts then
--   due_at: starts_at minus offset_seconds (an exact duration)
--   channel, chat_id: where it goes (the booking's source)
--   sent_at: when it was queued (outbox_id), or dropped (skipped says why)
CREATE TABLE reminders (
    booking_id     uuid NOT NULL REFERENCES bookings ON DELETE CASCADE,
    starts_at      timestamptz NOT NULL,
    offset_seconds integer NOT NULL CHECK (offset_seconds > 0),
    salon_id       text NOT NULL REFERENCES salons,
    due_at         timestamptz NOT NULL,
    channel        text NOT NULL,
    chat_id        text NOT NULL,
    sent_at        timestamptz,
    outbox_id      bigint,
    skipped        text,
    PRIMARY KEY (booking_id, starts_at, offset_seconds)
);
-- The scheduler's queue: unsent rows by due time (partial, so it stays small and
-- wins over the primary key with no statistics).
CREATE INDEX reminders_due ON reminders (salon_id, due_at) WHERE sent_at IS NULL;
