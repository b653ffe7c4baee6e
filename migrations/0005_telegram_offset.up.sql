-- Long polling (TELEGRAM_MODE=polling): the getUpdates offset of each salon's
-- bot, saved only once the updates below it are committed to the inbox, so a
-- restart neither loses nor refetches confirmed updates.
CREATE TABLE telegram_offsets (
    salon_id    text PRIMARY KEY REFERENCES salons,
    next_offset bigint NOT NULL,          -- 1 + the highest update_id stored
    updated_at  timestamptz NOT NULL DEFAULT now()
);
