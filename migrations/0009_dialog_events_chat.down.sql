-- Back to one row per channel and event id: of the events two chats share, the
-- oldest is kept (a replay of the other runs as a new event).
DELETE FROM dialog_events d
USING dialog_events o
WHERE o.salon_id = d.salon_id AND o.channel = d.channel AND o.event_id = d.event_id
  AND (o.created_at, o.chat_id) < (d.created_at, d.chat_id);
ALTER TABLE dialog_events DROP CONSTRAINT dialog_events_pkey;
ALTER TABLE dialog_events ADD PRIMARY KEY (salon_id, channel, event_id);
