ALTER TABLE bookings DROP COLUMN IF EXISTS coming_at;
ALTER TABLE salons
    DROP COLUMN IF EXISTS reminders_seconds,
    DROP COLUMN IF EXISTS waitlist_offer_seconds,
    DROP COLUMN IF EXISTS staff_summary_minute;
