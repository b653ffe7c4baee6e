-- The booking core: salons, services, masters, clients and bookings.
-- Every table carries salon_id and every unique and exclusion constraint includes it,
-- so the schema can be sharded by salon without changing what a query means.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE salons (
    salon_id              text PRIMARY KEY,
    name                  text NOT NULL,
    timezone              text NOT NULL,
    locales               text[] NOT NULL,
    phone                 text NOT NULL DEFAULT '',
    address               text NOT NULL DEFAULT '',
    slot_step_seconds     integer NOT NULL CHECK (slot_step_seconds >= 60),
    min_notice_seconds    integer NOT NULL CHECK (min_notice_seconds >= 0),
    horizon_seconds       integer NOT NULL CHECK (horizon_seconds > 0),
    hold_seconds          integer NOT NULL CHECK (hold_seconds > 0),
    cancel_cutoff_seconds integer NOT NULL CHECK (cancel_cutoff_seconds >= 0),
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE services (
    salon_id              text NOT NULL REFERENCES salons,
    service_id            text NOT NULL,
    names                 jsonb NOT NULL,
    duration_seconds      integer NOT NULL CHECK (duration_seconds > 0),
    buffer_before_seconds integer NOT NULL DEFAULT 0 CHECK (buffer_before_seconds >= 0),
    buffer_after_seconds  integer NOT NULL DEFAULT 0 CHECK (buffer_after_seconds >= 0),
    price_minor           bigint NOT NULL CHECK (price_minor >= 0),
    currency              text NOT NULL,
    active                boolean NOT NULL DEFAULT true,
    position              integer NOT NULL DEFAULT 0,
    updated_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (salon_id, service_id)
);

CREATE TABLE masters (
    salon_id   text NOT NULL REFERENCES salons,
    master_id  text NOT NULL,
    name       text NOT NULL,
    hours      jsonb NOT NULL,           -- {"mon": ["09:00-13:00", ...], ...}, wall clock in the salon's zone
    days_off   date[] NOT NULL DEFAULT '{}',
    calendar   text NOT NULL DEFAULT '', -- Google Calendar id
    telegram_chat_id bigint,             -- staff notices
    active     boolean NOT NULL DEFAULT true,
    position   integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (salon_id, master_id)
);

CREATE TABLE master_services (
    salon_id   text NOT NULL,
    master_id  text NOT NULL,
    service_id text NOT NULL,
    PRIMARY KEY (salon_id, master_id, service_id),
    FOREIGN KEY (salon_id, master_id) REFERENCES masters ON DELETE CASCADE,
    FOREIGN KEY (salon_id, service_id) REFERENCES services ON DELETE CASCADE
);

CREATE TABLE clients (
    client_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    salon_id   text NOT NULL REFERENCES salons,
    name       text NOT NULL,
    phone      text NOT NULL, -- normalised: + and digits
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (salon_id, phone)
);

CREATE TABLE bookings (
    booking_id      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    salon_id        text NOT NULL REFERENCES salons,
    master_id       text NOT NULL,
    service_id      text NOT NULL,
    client_id       bigint NOT NULL REFERENCES clients,
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz NOT NULL,
    occupied        tstzrange NOT NULL, -- [starts_at - buffer_before, ends_at + buffer_after)
    status          text NOT NULL CHECK (status IN ('held', 'confirmed', 'cancelled', 'expired')),
    hold_expires_at timestamptz,
    price_minor     bigint NOT NULL,
    currency        text NOT NULL,
    idempotency_key text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (salon_id, master_id) REFERENCES masters,
    FOREIGN KEY (salon_id, service_id) REFERENCES services,
    CHECK (starts_at < ends_at),
    CHECK (occupied @> tstzrange(starts_at, ends_at) AND lower_inc(occupied) AND NOT upper_inc(occupied)),
    CHECK (status <> 'held' OR hold_expires_at IS NOT NULL),
    -- A repeated create returns the first booking instead of making a second one.
    CONSTRAINT bookings_idempotency_key UNIQUE (salon_id, idempotency_key),
    -- No double booking, by construction: two live bookings of one master never
    -- share an instant of their occupied ranges (buffers included).
    CONSTRAINT bookings_no_master_overlap EXCLUDE USING gist
        (salon_id WITH =, master_id WITH =, occupied WITH &&)
        WHERE (status IN ('held', 'confirmed')),
    -- One client cannot be in two appointments at once.
    CONSTRAINT bookings_no_client_overlap EXCLUDE USING gist
        (salon_id WITH =, client_id WITH =, tstzrange(starts_at, ends_at) WITH &&)
        WHERE (status IN ('held', 'confirmed'))
);

CREATE INDEX bookings_client_upcoming ON bookings (salon_id, client_id, starts_at);
CREATE INDEX bookings_stale_holds ON bookings (hold_expires_at) WHERE status = 'held';
