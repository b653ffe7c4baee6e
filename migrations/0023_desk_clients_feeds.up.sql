-- The owner's desk, clients and calendar feeds (issue 15, items 4 and 5).

-- A private note on a client, written by the salon's owner at /admin/clients
-- and read by the masters who have the client's bookings. One per client; an
-- emptied note is deleted. Never logged. A table of its own rather than a
-- column of clients: booking never reads or writes it.
CREATE TABLE client_notes (
    client_id  bigint PRIMARY KEY REFERENCES clients ON DELETE CASCADE,
    salon_id   text NOT NULL,
    note       text NOT NULL CHECK (note <> '' AND char_length(note) <= 2000),
    updated_at timestamptz NOT NULL,
    updated_by text NOT NULL -- the desk login, or "cli"
);

-- One calendar feed per master (/calendar/<secret>.ics). The secret is random
-- (32 bytes, base64url) and only its SHA-256 is kept: a copy of the database
-- gives no feed. A new secret replaces the row (rotation: the old URL stops
-- working); deleting the row turns the feed off.
CREATE TABLE calendar_feeds (
    salon_id    text NOT NULL,
    master_id   text NOT NULL,
    secret_hash bytea NOT NULL CHECK (octet_length(secret_hash) = 32),
    created_at  timestamptz NOT NULL,
    created_by  text NOT NULL,
    PRIMARY KEY (salon_id, master_id),
    FOREIGN KEY (salon_id, master_id) REFERENCES masters ON DELETE CASCADE,
    CONSTRAINT calendar_feeds_secret UNIQUE (secret_hash)
);
