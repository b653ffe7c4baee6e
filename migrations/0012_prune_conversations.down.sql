DROP INDEX IF EXISTS dialog_events_chat;
