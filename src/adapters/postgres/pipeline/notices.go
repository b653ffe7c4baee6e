package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
)

var _ booking.Notifier = (*StaffNotices)(nil)

// StaffNotice is what a master is told about a change to one of their bookings.
// It carries the client's first name only: staff chats are no place for phones.
type StaffNotice struct {
	Kind        booking.ChangeKind
	Start, From time.Time
	Service     map[string]string // names by locale
	Client      string            // first name
	Master      string
}

// StaffNotices queues a Telegram message to a master who has a chat id (the salon
// file's telegram_chat_id) for every change to their confirmed bookings. The
// notice is queued after the booking is stored, in its own statement: a crash
// between the two loses the notice, never the booking.
type StaffNotices struct {
	pool    *pgxpool.Pool
	salonID string
	format  func(StaffNotice) string
	log     *slog.Logger
}

// NewStaffNotices returns the notifier of salonID; format writes the text.
func NewStaffNotices(pool *pgxpool.Pool, salonID string, format func(StaffNotice) string, log *slog.Logger) *StaffNotices {
	return &StaffNotices{pool: pool, salonID: salonID, format: format, log: log}
}

// Notify implements booking.Notifier.
func (n *StaffNotices) Notify(ctx context.Context, c booking.Change) {
	var chat *int64
	sn := StaffNotice{Kind: c.Kind, Start: c.Booking.Start, From: c.From}
	err := n.pool.QueryRow(ctx, `
		SELECT m.telegram_chat_id, m.name, s.names, cl.name
		FROM masters m, services s, clients cl
		WHERE m.salon_id = $1 AND m.master_id = $2 AND s.salon_id = $1 AND s.service_id = $3 AND cl.client_id = $4`,
		n.salonID, c.Booking.MasterID, c.Booking.ServiceID, c.Booking.ClientID).Scan(&chat, &sn.Master, &sn.Service, &sn.Client)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && chat == nil) {
		return // no chat configured for this master
	}
	if err == nil {
		sn.Client, _, _ = strings.Cut(strings.TrimSpace(sn.Client), " ")
		out := messaging.Outgoing{ChatID: strconv.FormatInt(*chat, 10), Reply: &dialog.Reply{Text: n.format(sn)}}
		var body []byte
		if body, err = json.Marshal(out); err == nil {
			_, err = n.pool.Exec(ctx, `INSERT INTO outbox (salon_id, channel, chat_id, body) VALUES ($1, 'telegram', $2, $3)`,
				n.salonID, out.ChatID, body)
		}
	}
	if err != nil {
		n.log.Warn("staff notice not queued", slog.String("booking", c.Booking.ID), slog.String("error", mapErr(err, "staff notice").Error()))
	}
}
