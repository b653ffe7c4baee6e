-- Who a client is (issue 14): the person in a chat, not a phone number typed
-- into it. A client row is found by its identity:
--   chat:<channel>:<chat id>  the person in that chat (a typed phone is contact
--                             information only);
--   phone:<E.164>             a number the channel vouches for (a Telegram
--                             contact of the sender's own, WhatsApp's own
--                             number): chats so verified share the client;
--   owner:<E.164>             the owner's bookings through the API (the
--                             owner's word, as before); the rows made before
--                             this migration, when every client was its phone.
--   erased:<client id>        personal data erased on the client's request;
--   unkeyed:<uuid>            a row inserted without one (by hand): found by
--                             no booking, a client of its own.
-- Two people sharing one phone are two clients, each may book, and the
-- per-client overlap constraint still says one person is in one place.
ALTER TABLE clients ADD COLUMN identity text;
UPDATE clients SET identity = 'owner:' || phone;
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
