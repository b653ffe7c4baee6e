-- Messages pushed to a chat outside its steps (a reminder, a wait-list offer)
-- carry the instant they were queued, by the queuer's clock (issue 13): the
-- conversation reads the newest one queued after the chat's last step
-- (pipeline.Pushed) to take a typed answer as an answer to it. NULL: a reply to
-- a step, a notice or a summary.
ALTER TABLE outbox ADD COLUMN pushed_at timestamptz;
-- A chat's pushed messages, newest first (partial: a handful per chat, and it
-- never ties with outbox_unsent).
CREATE INDEX outbox_pushed ON outbox (salon_id, channel, chat_id, pushed_at) WHERE pushed_at IS NOT NULL;
