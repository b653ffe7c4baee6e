DELETE FROM booking_changes WHERE action IN ('awaiting_payment', 'paid', 'refund_due');
ALTER TABLE booking_changes
    DROP CONSTRAINT booking_changes_action_check,
    ADD CONSTRAINT booking_changes_action_check CHECK (action IN ('held', 'booked', 'confirmed', 'moved', 'cancelled',
        'released', 'expired', 'coming', 'arrived', 'no_show', 'unmarked', 'blocked', 'unblocked'));
DROP TABLE stripe_deliveries;
DROP TABLE checkout_sessions;
DROP TABLE payments;
DROP INDEX bookings_pending_expiry;
-- A booking awaiting its deposit has no status without this migration: its
-- time is let go, as when the payment window lapses.
UPDATE bookings SET status = 'expired', updated_at = now() WHERE status = 'awaiting_payment';
ALTER TABLE bookings
    DROP CONSTRAINT bookings_no_master_overlap,
    ADD CONSTRAINT bookings_no_master_overlap EXCLUDE USING gist
        (salon_id WITH =, master_id WITH =, occupied WITH &&)
        WHERE (status IN ('held', 'confirmed')),
    DROP CONSTRAINT bookings_no_client_overlap,
    ADD CONSTRAINT bookings_no_client_overlap EXCLUDE USING gist
        (salon_id WITH =, client_id WITH =, tstzrange(starts_at, ends_at) WITH &&)
        WHERE (status IN ('held', 'confirmed')),
    DROP CONSTRAINT bookings_deposit_state,
    DROP COLUMN deposit_refund_until,
    DROP COLUMN deposit_state,
    DROP COLUMN deposit_minor,
    DROP CONSTRAINT bookings_payment_expiry,
    DROP CONSTRAINT bookings_status_check,
    ADD CONSTRAINT bookings_status_check CHECK (status IN ('held', 'confirmed', 'cancelled', 'expired'));
ALTER TABLE services
    DROP CONSTRAINT services_one_deposit,
    DROP COLUMN deposit_percent,
    DROP COLUMN deposit_minor;
ALTER TABLE salons
    DROP COLUMN deposit_refund_cutoff_seconds,
    DROP COLUMN payment_window_seconds,
    DROP COLUMN deposit_when;
