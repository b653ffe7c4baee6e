ALTER TABLE waitlist_offers DROP COLUMN outbox_id;
