DROP TABLE IF EXISTS chat_windows;
DROP TABLE IF EXISTS message_statuses;
DROP INDEX IF EXISTS outbox_provider;
DROP INDEX IF EXISTS outbox_resent_of;
ALTER TABLE outbox DROP COLUMN IF EXISTS resent_of;
ALTER TABLE outbox DROP COLUMN IF EXISTS provider_id;
