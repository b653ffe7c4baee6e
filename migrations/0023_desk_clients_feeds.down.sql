DROP TABLE IF EXISTS calendar_feeds;
DROP TABLE IF EXISTS client_notes;
