DROP TRIGGER outbox_forget ON outbox;
DROP FUNCTION outbox_forget();
ALTER TABLE dialog_events DROP COLUMN said;
ALTER TABLE salons DROP COLUMN privacy_url;
ALTER TABLE salons DROP COLUMN country;
ALTER TABLE clients DROP COLUMN erased_at;
ALTER TABLE clients DROP CONSTRAINT clients_identity;
-- Clients that now share a phone (two people, one number; erased rows) cannot
-- all keep it under the old unique key: the later rows' phones are suffixed
-- with their id, so going down never fails and loses no booking.
UPDATE clients c SET phone = c.phone || '#' || c.client_id
WHERE EXISTS (SELECT 1 FROM clients d WHERE d.salon_id = c.salon_id AND d.phone = c.phone AND d.client_id < c.client_id);
ALTER TABLE clients ADD CONSTRAINT clients_salon_id_phone_key UNIQUE (salon_id, phone);
ALTER TABLE clients DROP COLUMN identity;
