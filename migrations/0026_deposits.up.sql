-- Deposits (issue 16): a paid hold, asked of the clients who need it.
--
-- salons.deposit_when: never (the default: an upgraded salon asks nothing),
--   always, or after_no_show (clients with a no-show in the last year).
-- salons.payment_window_seconds: how long a booking awaiting its deposit holds
--   its time; NULL: 15 minutes.
-- salons.deposit_refund_cutoff_seconds: a client who cancels at least this long
--   before the start gets the deposit back, later it is kept; NULL: the
--   cancellation cutoff.
-- services.deposit_minor / deposit_percent: a fixed amount in the service's
--   currency (minor units), or a share of its price; NULL both: no deposit.
ALTER TABLE salons
    ADD COLUMN deposit_when text NOT NULL DEFAULT 'never' CHECK (deposit_when IN ('never', 'always', 'after_no_show')),
    ADD COLUMN payment_window_seconds integer CHECK (payment_window_seconds > 0),
    ADD COLUMN deposit_refund_cutoff_seconds integer CHECK (deposit_refund_cutoff_seconds >= 0);
ALTER TABLE services
    ADD COLUMN deposit_minor bigint CHECK (deposit_minor > 0),
    ADD COLUMN deposit_percent integer CHECK (deposit_percent BETWEEN 1 AND 100),
    ADD CONSTRAINT services_one_deposit CHECK (deposit_minor IS NULL OR deposit_percent IS NULL);

-- A booking awaiting its deposit: status awaiting_payment until hold_expires_at
-- (the payment window). It occupies its time as a hold does, so both exclusion
-- constraints are rebuilt with it in their WHERE: "live" is held,
-- awaiting_payment or confirmed. (NOT IN ('cancelled', 'expired') says the
-- same in the limits' statements and the index of 0012, unchanged.)
ALTER TABLE bookings
    DROP CONSTRAINT bookings_status_check,
    ADD CONSTRAINT bookings_status_check CHECK (status IN ('held', 'awaiting_payment', 'confirmed', 'cancelled', 'expired')),
    ADD CONSTRAINT bookings_payment_expiry CHECK (status <> 'awaiting_payment' OR hold_expires_at IS NOT NULL),
    -- The deposit asked of this booking (the service's currency, as the price)
    -- and where it stands: due (asked, not paid), paid, refund_due, refunded,
    -- kept (cancelled by the client after the refund cutoff).
    ADD COLUMN deposit_minor bigint CHECK (deposit_minor > 0),
    ADD COLUMN deposit_state text CHECK (deposit_state IN ('due', 'paid', 'refund_due', 'refunded', 'kept')),
    -- Until when a client's cancel gets the paid deposit back: the start less
    -- the refund cutoff, fixed when it was paid (a later move does not push it
    -- on). NULL until paid.
    ADD COLUMN deposit_refund_until timestamptz,
    ADD CONSTRAINT bookings_deposit_state CHECK ((deposit_minor IS NULL) = (deposit_state IS NULL)),
    DROP CONSTRAINT bookings_no_master_overlap,
    ADD CONSTRAINT bookings_no_master_overlap EXCLUDE USING gist
        (salon_id WITH =, master_id WITH =, occupied WITH &&)
        WHERE (status IN ('held', 'awaiting_payment', 'confirmed')),
    DROP CONSTRAINT bookings_no_client_overlap,
    ADD CONSTRAINT bookings_no_client_overlap EXCLUDE USING gist
        (salon_id WITH =, client_id WITH =, tstzrange(starts_at, ends_at) WITH &&)
        WHERE (status IN ('held', 'awaiting_payment', 'confirmed'));

-- The expiry loop (NextExpiry, ExpireDue) reads a salon's holds and bookings
-- awaiting payment by expiry (see bookings_held_expiry, 0020).
CREATE INDEX bookings_pending_expiry ON bookings (salon_id, hold_expires_at) WHERE status IN ('held', 'awaiting_payment');

-- payments: one row per deposit a provider reported paid. The unique keys make
-- a redelivered report a no-op: Telegram's telegram_payment_charge_id, Stripe's
-- Checkout Session and the event that reported it.
--   charge_id: telegram_payment_charge_id, or Stripe's payment intent (the
--     session's id when it has none)
--   provider_charge_id: Telegram's provider_payment_charge_id (the payment
--     provider's id, which the owner refunds by); '' for Stripe
--   state: paid, refund_due (to be refunded: by the refund loop for Stripe,
--     by the owner in the provider's dashboard for Telegram), refunded
--   refund_reason: late (the time was gone), cancelled (by the client before
--     the refund cutoff), salon (cancelled by the salon), duplicate (a second
--     payment of one booking), unpaid (the booking was cancelled before),
--     amount (not the deposit asked)
CREATE TABLE payments (
    payment_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    salon_id           text NOT NULL REFERENCES salons,
    booking_id         uuid NOT NULL REFERENCES bookings,
    provider           text NOT NULL CHECK (provider IN ('telegram', 'stripe')),
    charge_id          text NOT NULL CHECK (charge_id <> ''),
    provider_charge_id text NOT NULL DEFAULT '',
    session_id         text,
    event_id           text,
    amount_minor       bigint NOT NULL CHECK (amount_minor > 0),
    currency           text NOT NULL,
    state              text NOT NULL CHECK (state IN ('paid', 'refund_due', 'refunded')),
    refund_reason      text CHECK (refund_reason IN ('late', 'cancelled', 'salon', 'duplicate', 'unpaid', 'amount')),
    refund_id          text,
    refund_failed      text, -- a refund the provider refused for good: the owner's to make
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK ((state = 'paid') = (refund_reason IS NULL)),
    UNIQUE (provider, charge_id),
    UNIQUE (provider, session_id),
    UNIQUE (provider, event_id)
);
CREATE INDEX payments_booking ON payments (booking_id);
-- The refund loop's work, and the owner's list of refunds to make.
CREATE INDEX payments_refund_due ON payments (salon_id, provider, payment_id) WHERE state = 'refund_due';

-- checkout_sessions: the Stripe Checkout Session made for a booking awaiting
-- its deposit, kept so that "Pay deposit" again (in another language too)
-- gives the same page, and so that the page is closed (expired through
-- Stripe's API) once the booking lapses or is cancelled: closed_at set then.
CREATE TABLE checkout_sessions (
    booking_id  uuid PRIMARY KEY REFERENCES bookings,
    salon_id    text NOT NULL REFERENCES salons,
    session_id  text NOT NULL UNIQUE,
    url         text NOT NULL,
    expires_at  timestamptz NOT NULL, -- when Stripe closes the page by itself
    closed_at   timestamptz
);
-- The expiry loop's work: the pages still open.
CREATE INDEX checkout_sessions_open ON checkout_sessions (salon_id, expires_at) WHERE closed_at IS NULL;

-- stripe_deliveries: the signed webhook deliveries of Stripe's events (id,
-- and the t= of the signature). A delivery signed no later than one recorded
-- is a replay and refused; Stripe's retries are signed anew and go through.
-- Rows older than a day are dropped: a replay that old fails the signature's
-- 300 s tolerance anyway.
CREATE TABLE stripe_deliveries (
    event_id    text PRIMARY KEY,
    signed_at   timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

-- The history's new actions (booking_changes, 0022): a hold confirmed into
-- awaiting_payment, a deposit paid, a payment of a booking that does not stand
-- to be refunded.
ALTER TABLE booking_changes
    DROP CONSTRAINT booking_changes_action_check,
    ADD CONSTRAINT booking_changes_action_check CHECK (action IN ('held', 'booked', 'confirmed', 'moved', 'cancelled',
        'released', 'expired', 'coming', 'arrived', 'no_show', 'unmarked', 'blocked', 'unblocked',
        'awaiting_payment', 'paid', 'refund_due'));
