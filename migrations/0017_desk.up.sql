-- The owner's desk (issue 15): staff accounts from the salon file, their
-- sessions, login throttling, and an index for the schedule views.

-- One row per `staff:` entry of the salon file (salonbook apply keeps them in
-- step with it; an entry dropped from the file is deleted, with its sessions).
-- The password is never in the file: `salonbook passwd LOGIN` stores its hash
-- (argon2id, PHC string); NULL until then, and such an account cannot log in.
CREATE TABLE staff_accounts (
    salon_id      text NOT NULL REFERENCES salons,
    login         text NOT NULL CHECK (login ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    role          text NOT NULL CHECK (role IN ('owner', 'master')),
    master_id     text,
    password_hash text,
    password_set_at timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (salon_id, login),
    FOREIGN KEY (salon_id, master_id) REFERENCES masters,
    -- A master's account is tied to one master; an owner's to none.
    CHECK ((role = 'master') = (master_id IS NOT NULL))
);

-- A session is known by the SHA-256 of its random id: the cookie's value is
-- never stored, so a copy of this table logs no one in.
CREATE TABLE staff_sessions (
    id_hash    bytea PRIMARY KEY,
    salon_id   text NOT NULL,
    login      text NOT NULL,
    created_at timestamptz NOT NULL,
    seen_at    timestamptz NOT NULL,
    FOREIGN KEY (salon_id, login) REFERENCES staff_accounts ON DELETE CASCADE
);
CREATE INDEX staff_sessions_login ON staff_sessions (salon_id, login);

-- Failed logins per key ("login:<name>", known or not, and "addr:<ip or /64>")
-- in a fixed window; a login that succeeds clears its own key.
CREATE TABLE staff_login_failures (
    salon_id     text NOT NULL,
    key          text NOT NULL,
    window_start timestamptz NOT NULL,
    failures     integer NOT NULL,
    PRIMARY KEY (salon_id, key)
);

-- The day and week views read a master's bookings of a time window, every
-- status (cancelled ones too): none of the existing indexes leads with that.
CREATE INDEX bookings_desk ON bookings (salon_id, master_id, starts_at);
