-- Aliases: other words clients type for a service ("cut", "подстричься") or a
-- master ("Анна", "Аня"), from the salon file; the conversation understands
-- them, never shows them.
ALTER TABLE services ADD COLUMN aliases text[] NOT NULL DEFAULT '{}';
ALTER TABLE masters ADD COLUMN aliases text[] NOT NULL DEFAULT '{}';
