-- A master's name in each of the salon's languages ({"en": "Anna", "ru": "Анна"}),
-- from the salon file; name stays the default (the salon's first language, or
-- the one name the file gives), shown where a language has none.
ALTER TABLE masters ADD COLUMN names jsonb NOT NULL DEFAULT '{}';
