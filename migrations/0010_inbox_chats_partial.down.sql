DROP INDEX inbox_chats_backoff;
DROP INDEX inbox_chats_ready;
CREATE INDEX inbox_chats_next ON inbox_chats (salon_id, channel, head_id);
