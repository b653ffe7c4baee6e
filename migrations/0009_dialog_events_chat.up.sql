-- A handled event is one chat's: its replies are looked up by chat and event, so
-- two chats whose provider event ids happen to be equal never get each other's
-- replies (0002 keyed dialog_events by channel and event id alone).
ALTER TABLE dialog_events DROP CONSTRAINT dialog_events_pkey;
ALTER TABLE dialog_events ADD PRIMARY KEY (salon_id, channel, chat_id, event_id);
