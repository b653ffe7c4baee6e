DROP INDEX IF EXISTS outbox_reminders_unsent;
DROP INDEX IF EXISTS reminders_due;
CREATE INDEX reminders_due ON reminders (salon_id, due_at) WHERE sent_at IS NULL;
