DROP TABLE IF EXISTS calendar_events;
DROP TABLE IF EXISTS calendar_reads;
DROP TABLE IF EXISTS calendar_busy;
