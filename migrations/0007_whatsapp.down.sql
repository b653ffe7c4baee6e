DROP TABLE chat_windows;
DROP TABLE message_statuses;
DROP INDEX outbox_provider;
DROP INDEX outbox_resent_of;
ALTER TABLE outbox DROP COLUMN resent_of;
ALTER TABLE outbox DROP COLUMN provider_id;
