-- Chat conversations: each chat's state, the inbound events already handled (so a
-- replayed event gets the replies it got the first time) and the wait list.
-- Every table carries salon_id, as in 0001.

CREATE TABLE conversations (
    salon_id   text NOT NULL REFERENCES salons,
    channel    text NOT NULL, -- "web", "telegram", "whatsapp": a name, never interpreted here
    chat_id    text NOT NULL,
    state      jsonb NOT NULL DEFAULT '{}', -- dialog.State
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (salon_id, channel, chat_id)
);

-- One row per handled inbound event. The event id is the channel's own, unique
-- within the channel, so the chat is not part of the key.
CREATE TABLE dialog_events (
    salon_id   text NOT NULL,
    channel    text NOT NULL,
    chat_id    text NOT NULL,
    event_id   text NOT NULL,
    replies    jsonb NOT NULL, -- []dialog.Reply
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (salon_id, channel, event_id),
    FOREIGN KEY (salon_id, channel, chat_id) REFERENCES conversations ON DELETE CASCADE
);

-- Replays come within minutes; older events are pruned by created_at.
CREATE INDEX dialog_events_created ON dialog_events (created_at);

CREATE TABLE waitlist (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    salon_id    text NOT NULL REFERENCES salons,
    channel     text NOT NULL,
    chat_id     text NOT NULL,
    service_id  text NOT NULL,
    master_id   text NOT NULL, -- a master id or "any", so not a foreign key
    day         date NOT NULL, -- the salon's local day
    client_id   bigint CONSTRAINT waitlist_client_fkey REFERENCES clients, -- NULL until the client is known
    lang        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    notified_at timestamptz,
    CONSTRAINT waitlist_service_fkey FOREIGN KEY (salon_id, service_id) REFERENCES services,
    CONSTRAINT waitlist_once UNIQUE (salon_id, channel, chat_id, service_id, master_id, day)
);
