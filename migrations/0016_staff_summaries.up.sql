-- Morning summaries (policy.staff_summary, issue 13): one row per salon, master
-- and local day, inserted in the transaction that queues the summary in the
-- outbox (or decides the day gets none). Its primary key decides who sends: a
-- second loop (a restart, another replica) conflicts and queues nothing.
--   day: the salon's local date the summary covers
--   outcome: sent (queued), blocked (queued given up: the chat blocked the bot),
--            empty (no bookings that day: nothing sent), late (the service was
--            down at the due time and the master's day had begun: skipped)
CREATE TABLE staff_summaries (
    salon_id   text NOT NULL,
    master_id  text NOT NULL,
    day        date NOT NULL,
    outcome    text NOT NULL CHECK (outcome IN ('sent', 'blocked', 'empty', 'late')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (salon_id, day, master_id), -- (salon_id, day): the day's rows, a prefix
    FOREIGN KEY (salon_id, master_id) REFERENCES masters ON DELETE CASCADE
);
