-- Idle anonymous web-chat conversations are pruned (postgres.Conversations.
-- PruneAnonymous); their dialog_events go by ON DELETE CASCADE, which looks
-- them up by chat: without an index on (salon_id, channel, chat_id) each
-- deleted conversation scanned the whole table. A primary key that starts with
-- those columns (as 0009 makes it) serves already; then no index is added.
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_index i
        WHERE i.indrelid = 'dialog_events'::regclass
          AND (SELECT array_agg(a.attname::text ORDER BY k.ord)
               FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
               WHERE k.ord <= 3) = ARRAY['salon_id', 'channel', 'chat_id']
    ) THEN
        CREATE INDEX dialog_events_chat ON dialog_events (salon_id, channel, chat_id);
    END IF;
END
$$;
