ALTER TABLE inbox DROP COLUMN IF EXISTS sent_at;
CREATE INDEX IF NOT EXISTS inbox_next ON inbox (salon_id, channel, id) WHERE handled_at IS NULL;
DROP TABLE IF EXISTS inbox_chats;
