DROP TABLE IF EXISTS telegram_offsets;
