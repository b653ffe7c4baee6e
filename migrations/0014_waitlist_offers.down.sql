DROP INDEX IF EXISTS waitlist_waiting;
DROP TABLE IF EXISTS waitlist_wakes;
DROP TABLE IF EXISTS waitlist_offers;
