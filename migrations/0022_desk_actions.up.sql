-- The owner's desk actions (issue 15, item 3): blocked time, attendance marks
-- and the history of every change to a booking.

-- A block (a master's break or sick hour) is a bookings row of kind 'block':
-- the exclusion constraint on the master's occupied time counts it as it
-- counts an appointment, so no booking can overlap it and it cannot be placed
-- over a live booking. A block has no client and no service (it is no
-- appointment), is confirmed while it stands and cancelled when it is lifted,
-- and may carry a short note ("Break", "Sick"); an appointment always has a
-- client and a service and no note.
-- attendance: set by staff at or after the start on a confirmed appointment
-- ('arrived' or 'no_show'), with when it was set; later code counts a client's
-- no-shows of the last year by bookings_no_shows.
-- One ALTER, checks included (no NOT VALID and VALIDATE apart): golang-migrate's
-- pgx5 driver sends this whole file as one simple query, which PostgreSQL runs
-- as one implicit transaction, so the ACCESS EXCLUSIVE lock this ALTER takes on
-- bookings is held until the file's end whatever follows it; validating apart
-- would only scan the table three times under it instead of once. The new
-- columns have constant defaults (no rewrite): the lock lasts one scan of
-- bookings (and the index build below), during which bookings wait. On a large
-- table, run it when the salon is quiet.
ALTER TABLE bookings
    ADD COLUMN kind text NOT NULL DEFAULT 'appointment',
    ADD COLUMN note text NOT NULL DEFAULT '',
    ADD COLUMN attendance text,
    ADD COLUMN attendance_at timestamptz,
    ALTER COLUMN client_id DROP NOT NULL,
    ALTER COLUMN service_id DROP NOT NULL,
    ADD CONSTRAINT bookings_kind CHECK (kind IN ('appointment', 'block')),
    ADD CONSTRAINT bookings_kind_fields CHECK (CASE WHEN kind = 'block'
        THEN client_id IS NULL AND service_id IS NULL AND status IN ('confirmed', 'cancelled') AND attendance IS NULL
        ELSE client_id IS NOT NULL AND service_id IS NOT NULL AND note = '' END),
    ADD CONSTRAINT bookings_attendance CHECK (attendance IN ('arrived', 'no_show')
        AND attendance_at IS NOT NULL AND status = 'confirmed'
        OR attendance IS NULL AND attendance_at IS NULL);

-- A client's no-shows by start: "no-shows in the last year" reads only them.
CREATE INDEX bookings_no_shows ON bookings (salon_id, client_id, starts_at) WHERE attendance = 'no_show';

-- Every change to a booking (held, booked, confirmed, moved, cancelled,
-- released, expired, "I'll come", arrived, no-show, unmarked, blocked,
-- unblocked), written by the statement that makes the change (a CTE of the
-- same INSERT or UPDATE), so it exists if and only if the change does.
-- actor: "desk:<login>", "chat", "api" or "system" (hold expiry, the
-- wait-list). No foreign key to bookings (rows are never deleted): its check
-- would take a key-share lock on the booking at every change.
CREATE TABLE booking_changes (
    booking_id     uuid NOT NULL,
    id             bigint GENERATED ALWAYS AS IDENTITY,
    salon_id       text NOT NULL,
    at             timestamptz NOT NULL,
    actor          text NOT NULL,
    action         text NOT NULL CHECK (action IN ('held', 'booked', 'confirmed', 'moved', 'cancelled', 'released',
                                                  'expired', 'coming', 'arrived', 'no_show', 'unmarked',
                                                  'blocked', 'unblocked')),
    reason         text NOT NULL DEFAULT '',
    override       boolean NOT NULL DEFAULT false, -- inside the cancellation cutoff, allowed by an owner
    starts_at      timestamptz NOT NULL,           -- the booking's start after the change
    from_starts_at timestamptz,                    -- before it, for a move
    PRIMARY KEY (booking_id, id)
);
