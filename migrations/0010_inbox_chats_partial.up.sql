-- The queue of chats is served in head_id order from two partial indexes, one
-- for chats ready (by head_id) and one for chats backing off (by retry_at),
-- instead of inbox_chats_next.
-- With no statistics (a fresh database, or the queue analyzed while empty)
-- every lookup of one chat's row (a worker's end-of-step delete and update,
-- Repair's) costs the same by inbox_chats_next (salon, channel) as by the
-- primary key, and the planner took inbox_chats_next: each step read every
-- waiting chat's row (10,000 chats: 56 ms a step), Repair's adoption probe
-- 130 s. A partial index serves only a query that states its predicate, so a
-- lookup by chat can only take the primary key.
DROP INDEX inbox_chats_next;
CREATE INDEX inbox_chats_ready ON inbox_chats (salon_id, channel, head_id) WHERE retry_at IS NULL;
-- Chats backing off are indexed by retry time: Next takes the due ones
-- (retry_at <= now()) from its start and stops there, instead of walking
-- every backing-off chat in head_id order to filter out the ones not due
-- (8,990 chats backing off, none due: 9,070 rows read a step, 3.5 ms).
CREATE INDEX inbox_chats_backoff ON inbox_chats (salon_id, channel, retry_at) WHERE retry_at IS NOT NULL;
