DROP TABLE meta_events;
DROP TABLE meta_chats;
DROP TABLE meta_clicks;
ALTER TABLE salons DROP COLUMN ads_phone_consent;
