package pipeline

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/jackc/pgx/v5"

	"salonbook/src/core"
	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
)

// Offers queues a wait-list offer's message to the entry's chat in the
// transaction that holds the time and stores the offer (Record, plugged into
// postgres.Store.FollowOffers): the client is told if and only if the offer
// exists. The words are core's (dialog.OfferReply); this only reads the names.
type Offers struct {
	reply func(*core.Salon, dialog.Offer) dialog.Reply
	clock core.Clock
	log   *slog.Logger
}

// NewOffers returns the offers' messages, written by reply for the salon as
// the offer's transaction read it; clock stamps each as pushed (Pushed reads
// it: a typed answer at the menu answers the offer).
func NewOffers(reply func(*core.Salon, dialog.Offer) dialog.Reply, clock core.Clock, log *slog.Logger) *Offers {
	return &Offers{reply: reply, clock: clock, log: log}
}

// Record queues the message of the offer of b to entry, in tx. Its error rolls
// the offer (and its hold) back.
func (o *Offers) Record(ctx context.Context, tx pgx.Tx, entry int64, b core.Booking, salon *core.Salon) error {
	var channel, chat string
	of := dialog.Offer{BookingID: b.ID, Start: b.Start, Made: o.clock.Now(), Expires: b.HoldExpiresAt}
	err := tx.QueryRow(ctx, `
		SELECT w.channel, w.chat_id, w.lang, s.names, m.name, m.names
		FROM waitlist w, services s, masters m
		WHERE w.salon_id = $1 AND w.id = $2 AND s.salon_id = $1 AND s.service_id = $3 AND m.salon_id = $1 AND m.master_id = $4`,
		b.SalonID, entry, b.ServiceID, b.MasterID).Scan(&channel, &chat, &of.Lang, &of.Service, &of.Master, &of.MasterNames)
	if err != nil {
		return mapErr(err, "read wait-list offer")
	}
	// The offer ends by its hold's expiry at the latest: a sender never sends it
	// later (an offer ended sooner is given up by what ends it, postgres.giveUpOffers).
	out := messaging.Outgoing{ChatID: chat, Reply: new(o.reply(salon, of)), NotAfter: b.HoldExpiresAt.UTC()}
	body, err := json.Marshal(out)
	if err != nil {
		return core.Errorf(core.EInternal, "error.internal", "pipeline: encode wait-list offer: %w", err)
	}
	var blocked bool
	if err := tx.QueryRow(ctx, queueOfferSQL, b.SalonID, channel, chat, nil, body, o.clock.Now(), b.ID).Scan(&blocked); err != nil {
		return mapErr(err, "queue wait-list offer")
	}
	if blocked { // the hold stands and lapses unanswered; the time then goes on
		o.log.Info("wait-list offer not sent: the chat blocked the bot", slog.String("booking", b.ID), slog.Int64("entry", entry))
	}
	return nil
}

// queueOfferSQL queues the message (insertPushed, $1 to $6) and keeps its id
// on the offer of booking $7, in one statement (one round trip of the offer's
// transaction fewer); it says whether the chat blocked the bot.
const queueOfferSQL = `
	WITH m(blocked, id) AS (` + insertPushed + `, id),
	o AS (UPDATE waitlist_offers SET outbox_id = (SELECT id FROM m) WHERE booking_id = $7::uuid)
	SELECT blocked FROM m`
