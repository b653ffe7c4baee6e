-- WhatsApp (issue 7), in channel-neutral tables any chat channel can use.

-- The provider's id of each sent message (WhatsApp: the wamid), so that delivery
-- statuses can be matched to the outbox row they belong to.
ALTER TABLE outbox ADD COLUMN provider_id text;
CREATE INDEX outbox_provider ON outbox (salon_id, channel, provider_id) WHERE provider_id IS NOT NULL;

-- A message queued again because the provider failed it after accepting it
-- (WhatsApp: the window had closed; the copy goes as a template) names the
-- outbox row it copies. At most one copy per row, however often the failure is
-- reported and whichever of the failure and the send's record comes first.
ALTER TABLE outbox ADD COLUMN resent_of bigint;
CREATE UNIQUE INDEX outbox_resent_of ON outbox (resent_of) WHERE resent_of IS NOT NULL;

-- Delivery statuses as the provider reports them (sent, delivered, read, failed),
-- one row per message and status: a redelivered status is a no-op, and statuses
-- arriving out of order cannot overwrite a later one (the state of a message is
-- its highest status; failed wins). A status may arrive before the send is
-- recorded, so it is keyed by the provider's id, not by the outbox row.
CREATE TABLE message_statuses (
    salon_id    text NOT NULL REFERENCES salons,
    channel     text NOT NULL,
    provider_id text NOT NULL,
    status      text NOT NULL CHECK (status IN ('sent', 'delivered', 'read', 'failed')),
    error_code  integer,                 -- the provider's code for failed
    resend      boolean NOT NULL DEFAULT false, -- failed in a way that calls for sending the message again
    at          timestamptz NOT NULL,    -- the provider's time
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (salon_id, channel, provider_id, status)
);

-- The customer-service window of each chat (WhatsApp: 24 hours after the
-- client's last message): when the client last wrote (the provider's time), and
-- when the provider last said the window was closed (error 131047), which wins
-- over an older message.
CREATE TABLE chat_windows (
    salon_id        text NOT NULL REFERENCES salons,
    channel         text NOT NULL,
    chat_id         text NOT NULL,
    last_inbound_at timestamptz,
    closed_at       timestamptz,
    PRIMARY KEY (salon_id, channel, chat_id)
);
