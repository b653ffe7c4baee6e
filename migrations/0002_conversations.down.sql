DROP TABLE IF EXISTS waitlist;
DROP TABLE IF EXISTS dialog_events;
DROP TABLE IF EXISTS conversations;
