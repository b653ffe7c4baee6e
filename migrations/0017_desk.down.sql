DROP INDEX IF EXISTS bookings_desk;
DROP TABLE IF EXISTS staff_login_failures;
DROP TABLE IF EXISTS staff_sessions;
DROP TABLE IF EXISTS staff_accounts;
