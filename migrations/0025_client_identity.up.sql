-- Who a client is (issue 14): the person in a chat, not a phone number typed
-- into it. A client row is found by its identity:
--   chat:<channel>:<chat id>  the person in that chat (a typed phone is contact
--                             information only);
--   phone:<E.164>             a number the channel vouches for (a Telegram
--                             contact of the sender's own, WhatsApp's own
--                             number): chats so verified share the client;
--   owner:<E.164>             the owner's bookings through the API (the
--                             owner's word, as before); the rows made before
--                             this migration, when every client was its phone,
--                             but the chats' own (below).
--   erased:<client id>        personal data erased on the client's request;
--   unkeyed:<uuid>            a row inserted without one (by hand): found by
--                             no booking, a client of its own.
-- Two people sharing one phone are two clients, each may book, and the
-- per-client overlap constraint still says one person is in one place.
ALTER TABLE clients ADD COLUMN identity text;
UPDATE clients SET identity = 'owner:' || phone;
-- A chat that booked before this migration goes on as the same client: its
-- next booking looks up chat:<source>, and a client of its own would not be
-- held by bookings_no_client_overlap against the bookings it already has (the
-- chat's Tuesday 10:00 with Anna and a new Tuesday 10:00 with Boris would
-- both stand). A client all of whose bookings come from one chat is that
-- chat's person: it becomes chat:<source>; of several such clients of one
-- chat (it typed another number once), the one that booked last. A client
-- whose bookings come from several sources (two chats that typed one number,
-- or a chat and the owner's API or desk) cannot be told apart from the phone
-- and stays owner:<phone>: the owner's bookings of that number keep finding
-- it, and the chats that shared it each get a client of their own at their
-- next booking (the overlap then holds per chat from there on, as for a new
-- chat). Blocks have no client; staff sources ('api', 'desk:<login>', '')
-- are no chat.
UPDATE clients c SET identity = 'chat:' || one.source
FROM (
    SELECT DISTINCT ON (b.salon_id, b.source) b.client_id, b.source
    FROM (SELECT client_id, min(salon_id) AS salon_id, min(source) AS source, max(created_at) AS last
          FROM bookings WHERE client_id IS NOT NULL
          GROUP BY client_id
          HAVING count(DISTINCT source) = 1) b
    WHERE b.source <> '' AND b.source <> 'api' AND b.source NOT LIKE 'desk:%'
    ORDER BY b.salon_id, b.source, b.last DESC, b.client_id DESC
) one
WHERE c.client_id = one.client_id;
ALTER TABLE clients ALTER COLUMN identity SET NOT NULL;
ALTER TABLE clients ALTER COLUMN identity SET DEFAULT 'unkeyed:' || gen_random_uuid()::text;
ALTER TABLE clients DROP CONSTRAINT clients_salon_id_phone_key;
ALTER TABLE clients ADD CONSTRAINT clients_identity UNIQUE (salon_id, identity);
-- When the client's name and phone were erased ("delete my data"); the row
-- stays so that the salon's booking rows keep their foreign key.
ALTER TABLE clients ADD COLUMN erased_at timestamptz;

-- The salon's country (ISO 3166-1 alpha-2, '' for none): the default region of
-- the phone numbers clients type; and its privacy notice, shown before a
-- client's name and phone are asked.
ALTER TABLE salons ADD COLUMN country text NOT NULL DEFAULT '' CHECK (country ~ '^([A-Z]{2})?$');
ALTER TABLE salons ADD COLUMN privacy_url text NOT NULL DEFAULT '';

-- What the client sent with each handled event, for channels whose page draws
-- the conversation again (the web chat after a reload): {"kind", "text" |
-- "choice"}. NULL for the other channels, which keep no copy.
ALTER TABLE dialog_events ADD COLUMN said jsonb;

-- "Delete my data" blanks the outbox messages of the chat and the staff
-- notices about the erased client's bookings (postgres.Privacy.Erase). One
-- not yet sent is still sent (the answers of the chat's last steps, the
-- notice of a cancellation the erase made) and is marked {"forget": true}:
-- once it is sent or given up, by whichever statement, its body is blanked
-- here. The WHEN is evaluated without calling the function, so other
-- updates of the outbox pay one jsonb key test.
CREATE FUNCTION outbox_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.body := '{"erased": true}'::jsonb;
    RETURN NEW;
END
$$;
CREATE TRIGGER outbox_forget BEFORE UPDATE ON outbox FOR EACH ROW
    WHEN (NEW.body ? 'forget' AND (NEW.sent_at IS NOT NULL OR NEW.failed IS NOT NULL))
    EXECUTE FUNCTION outbox_forget();
