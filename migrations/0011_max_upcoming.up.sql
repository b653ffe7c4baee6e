-- How many upcoming bookings one client (one phone), or one chat, may make for
-- themselves (policy.max_upcoming in the salon file; the owner's API is not
-- capped). 0 is no cap: only salons set up in Go code (tests) have it; the salon
-- file always sets one, default 3.
ALTER TABLE salons ADD COLUMN max_upcoming integer NOT NULL DEFAULT 3 CHECK (max_upcoming >= 0);
