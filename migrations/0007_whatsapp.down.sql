DROP TABLE chat_windows;
DROP TABLE message_statuses;
DROP INDEX outbox_provider;
ALTER TABLE outbox DROP COLUMN provider_id;
