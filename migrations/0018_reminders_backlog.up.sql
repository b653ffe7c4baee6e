-- Reminders under backpressure (issue 13 review).
-- The scheduler claims one channel's due reminders at a time, and only while that
-- channel's reminders waiting in the outbox stay below a bound: its queue index
-- leads with the channel, so a channel that is full (or off) is never read through
-- to reach another's rows.
DROP INDEX reminders_due;
CREATE INDEX reminders_due ON reminders (salon_id, channel, due_at) WHERE sent_at IS NULL;
-- The reminders waiting in the outbox of a channel, counted (up to the bound)
-- before each claim: small, since the bound keeps it small.
CREATE INDEX outbox_reminders_unsent ON outbox (salon_id, channel)
    WHERE sent_at IS NULL AND failed IS NULL AND body->>'template' = 'reminder';
