-- Bookings reported to Meta's Conversions API (issue 18).
--
-- salons.ads_phone_consent: the salon file says its clients' consent covers
--   sending Meta a hash of their phone number (policy.ads_phone_consent);
--   false (the default): no phone hash is ever sent.
ALTER TABLE salons ADD COLUMN ads_phone_consent boolean NOT NULL DEFAULT false;

-- meta_clicks: an ad click that reached GET /go/telegram, kept under a short
-- random code until the client's /start <code> ties it to their chat. Only
-- the click id (fbclid) and its time: nothing about the person.
CREATE TABLE meta_clicks (
    code       text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9_-]{1,64}$'),
    salon_id   text NOT NULL REFERENCES salons ON DELETE CASCADE,
    fbclid     text NOT NULL CHECK (length(fbclid) BETWEEN 1 AND 500),
    clicked_at timestamptz NOT NULL
);
CREATE INDEX meta_clicks_clicked ON meta_clicks (clicked_at);

-- meta_chats: the ad click a chat came from: a Telegram chat's fbclid (from
-- its /start code), a WhatsApp chat's ctwa_clid (the referral of a
-- click-to-WhatsApp ad). A chat without a row is organic: nothing is
-- reported for its bookings. An erase of the chat's data deletes it.
CREATE TABLE meta_chats (
    salon_id   text NOT NULL REFERENCES salons ON DELETE CASCADE,
    channel    text NOT NULL,
    chat_id    text NOT NULL,
    fbclid     text,
    clicked_at timestamptz,
    ctwa_clid  text,
    noted_at   timestamptz NOT NULL,
    PRIMARY KEY (salon_id, channel, chat_id),
    CHECK (fbclid IS NOT NULL AND clicked_at IS NOT NULL OR ctwa_clid IS NOT NULL)
);

-- meta_events: one row per event reported (or to be), keyed by its event_id
-- (the booking and the event's name): a replayed change or a retried job
-- finds it and sends nothing twice. state: pending until sent; sent;
-- refused (Meta answered 400: not retried); dropped (the client's data was
-- erased, or the chat's click is gone, before it went).
CREATE TABLE meta_events (
    event_id    text PRIMARY KEY,
    salon_id    text NOT NULL REFERENCES salons ON DELETE CASCADE,
    booking_id  uuid NOT NULL,
    name        text NOT NULL CHECK (name IN ('Schedule', 'Purchase')),
    occurred_at timestamptz NOT NULL,
    state       text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'refused', 'dropped')),
    done_at     timestamptz
);
CREATE INDEX meta_events_booking ON meta_events (booking_id);
