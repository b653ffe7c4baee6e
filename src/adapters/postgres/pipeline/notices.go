package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/jackc/pgx/v5"

	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
)

// StaffNotices queues a message to a master who has a staff chat (the salon
// file's telegram_chat_id) for every change to their confirmed bookings, in the
// change's own transaction (Record, plugged into postgres.Store.FollowChanges):
// the notice is queued if and only if the change commits. The text is core's
// (dialog.StaffText); this only reads the names it needs.
type StaffNotices struct {
	channel string
	text    func(dialog.StaffNotice) string
	log     *slog.Logger
}

// NewStaffNotices returns the staff notices sent through channel (the one the
// staff chat ids belong to); text writes them. A notice not sent is logged on log.
func NewStaffNotices(channel string, text func(dialog.StaffNotice) string, log *slog.Logger) *StaffNotices {
	return &StaffNotices{channel: channel, text: text, log: log}
}

// Record queues the notice of c in tx, the transaction that makes the change;
// nothing when the master has no staff chat. A move to another master is two
// notices: the old master's booking is cancelled (at its old time), the new
// master's is booked. Its error rolls the change back.
func (n *StaffNotices) Record(ctx context.Context, tx pgx.Tx, c booking.Change) error {
	if c.Kind == booking.Moved && c.FromMaster != "" && c.FromMaster != c.Booking.MasterID {
		gone := c.Booking
		gone.MasterID, gone.Start = c.FromMaster, c.From
		if err := n.notify(ctx, tx, booking.Change{Kind: booking.Cancelled, Booking: gone}); err != nil {
			return err
		}
		return n.notify(ctx, tx, booking.Change{Kind: booking.Booked, Booking: c.Booking})
	}
	return n.notify(ctx, tx, c)
}

// notify queues the notice of c to its booking's master.
func (n *StaffNotices) notify(ctx context.Context, tx pgx.Tx, c booking.Change) error {
	switch c.Kind {
	case booking.Booked, booking.Moved, booking.Cancelled, booking.Coming:
	default:
		return nil // a block has no client to tell of; other kinds are not notices
	}
	var chat *int64
	sn := dialog.StaffNotice{Kind: c.Kind, Start: c.Booking.Start, From: c.From, Deposit: c.Booking.Deposit, DepositTo: c.Booking.DepositState}
	err := tx.QueryRow(ctx, `
		SELECT m.telegram_chat_id, m.name, m.names, s.names, cl.name
		FROM masters m, services s, clients cl
		WHERE m.salon_id = $1 AND m.master_id = $2 AND s.salon_id = $1 AND s.service_id = $3 AND cl.client_id = $4`,
		c.Booking.SalonID, c.Booking.MasterID, c.Booking.ServiceID, c.Booking.ClientID).Scan(&chat, &sn.Master, &sn.MasterNames, &sn.Service, &sn.Client)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && chat == nil) {
		return nil // no chat configured for this master
	}
	if err != nil {
		return fmt.Errorf("pipeline: read staff notice: %w", err)
	}
	out := messaging.Outgoing{ChatID: strconv.FormatInt(*chat, 10), Reply: &dialog.Reply{Text: n.text(sn)}, Booking: c.Booking.ID}
	body, err := json.Marshal(out)
	if err != nil {
		return fmt.Errorf("pipeline: staff notice: %w", err)
	}
	var blocked bool
	if err := tx.QueryRow(ctx, insertOutbox, c.Booking.SalonID, n.channel, out.ChatID, nil, body).Scan(&blocked); err != nil {
		return fmt.Errorf("pipeline: queue staff notice: %w", err)
	}
	if blocked { // stored given up: never sent, not even once the chat opens again
		n.log.Warn("staff notice not sent: the master's chat blocked the bot; notices resume once it writes to the bot",
			slog.String("booking", c.Booking.ID), slog.String("master", c.Booking.MasterID))
	}
	return nil
}
