-- The message pipeline shared by every chat channel (DESIGN §5).
-- inbox: every update as received, stored before the provider is answered; one
-- chat's updates are handled in order, different chats in parallel.
-- outbox: every message to send, written in the same transaction that marks its
-- update handled, drained by a sender that respects the provider's limits.
CREATE TABLE inbox (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    salon_id     text NOT NULL REFERENCES salons,
    channel      text NOT NULL,
    update_id    text NOT NULL,          -- the provider's id: a redelivery is a no-op
    chat_id      text NOT NULL DEFAULT '', -- '' when the update could not be read
    payload      bytea NOT NULL,         -- the raw update, never logged
    received_at  timestamptz NOT NULL DEFAULT now(),
    handled_at   timestamptz,            -- set when handled (or dead)
    dead         text,                   -- why it could not be handled (a dead letter)
    attempts     integer NOT NULL DEFAULT 0,
    retry_at     timestamptz,            -- after a passing failure, not before this
    CONSTRAINT inbox_once UNIQUE (salon_id, channel, update_id)
);
CREATE INDEX inbox_pending ON inbox (salon_id, channel, chat_id, id) WHERE handled_at IS NULL;
CREATE INDEX inbox_next ON inbox (salon_id, channel, id) WHERE handled_at IS NULL;
CREATE INDEX inbox_recent ON inbox (salon_id, channel, chat_id, received_at);

CREATE TABLE outbox (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    salon_id    text NOT NULL REFERENCES salons,
    channel     text NOT NULL,
    chat_id     text NOT NULL,
    inbox_id    bigint REFERENCES inbox ON DELETE SET NULL, -- the update it answers
    body        jsonb NOT NULL,          -- messaging.Outgoing
    created_at  timestamptz NOT NULL DEFAULT now(),
    not_before  timestamptz NOT NULL DEFAULT now(),
    leased_until timestamptz,            -- a sender is working on it until then
    lease_token text,                    -- which sender: a late answer from an expired lease is ignored
    attempts    integer NOT NULL DEFAULT 0,
    sent_at     timestamptz,
    failed      text                     -- given up, and why
);
CREATE INDEX outbox_unsent ON outbox (salon_id, channel, chat_id, id) WHERE sent_at IS NULL AND failed IS NULL;

-- Chats that blocked the bot: nothing more is sent to them until they write again.
CREATE TABLE channel_chats (
    salon_id   text NOT NULL REFERENCES salons,
    channel    text NOT NULL,
    chat_id    text NOT NULL,
    blocked_at timestamptz,
    PRIMARY KEY (salon_id, channel, chat_id)
);
