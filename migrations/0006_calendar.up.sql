-- Google Calendar (issue 6): what each master's calendar says is busy, when it was
-- read, and which event stands for which booking. River's own tables (the calendar
-- jobs) are created by `salonbook migrate` through rivermigrate, after these.

-- calendar_busy: the busy time read from a master's calendar, minus that master's
-- own bookings (whose events Google reports as busy too). A refresh replaces a
-- master's rows in the window it read, in one transaction: never merged into
-- stale rows. event_id is empty for free/busy reads; an incremental sync (events
-- with sync tokens) can later keep one row per event.
CREATE TABLE calendar_busy (
    salon_id  text NOT NULL,
    master_id text NOT NULL,
    during    tstzrange NOT NULL,
    event_id  text NOT NULL DEFAULT '',
    FOREIGN KEY (salon_id, master_id) REFERENCES masters ON DELETE CASCADE
);
CREATE INDEX calendar_busy_during ON calendar_busy USING gist (salon_id, master_id, during);

-- calendar_reads: per master, the last window read and when; the last problem with
-- the master's calendar (reading or writing), cleared by the next success.
CREATE TABLE calendar_reads (
    salon_id     text NOT NULL,
    master_id    text NOT NULL,
    calendar     text NOT NULL,
    window_start timestamptz,
    window_end   timestamptz,
    read_at      timestamptz,
    problem      text,          -- never a token; "calendar not found (404)" and the like
    problem_at   timestamptz,
    PRIMARY KEY (salon_id, master_id),
    FOREIGN KEY (salon_id, master_id) REFERENCES masters ON DELETE CASCADE
);

-- calendar_events: the event that stands for a booking, in which calendar. The
-- event id is derived from the booking id, so a retried insert finds it (409).
CREATE TABLE calendar_events (
    salon_id   text NOT NULL,
    booking_id uuid NOT NULL,
    calendar   text NOT NULL,
    event_id   text NOT NULL,
    starts_at  timestamptz,     -- as last written; null once deleted
    ends_at    timestamptz,
    deleted    boolean NOT NULL DEFAULT false,
    synced_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (salon_id, booking_id)
);
