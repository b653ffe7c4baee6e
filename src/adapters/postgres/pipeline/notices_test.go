package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
	"salonbook/src/core/i18n"
	"salonbook/src/core/messaging"
)

func TestStaffNotices(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	setup := pgtest.Setup(b.salonID)
	setup.StaffChats = map[string]int64{"anna": 12345}
	_, err := b.store.Apply(ctx, setup)
	require.NoError(t, err)
	pool := pgtest.Pool(t)
	catalog, err := i18n.Load()
	require.NoError(t, err)
	salon, err := b.svc.Catalog(ctx, b.salonID)
	require.NoError(t, err)
	b.store.FollowChanges(pipeline.NewStaffNotices("telegram", dialog.StaffText(catalog, salon.Salon), slog.New(slog.DiscardHandler)).Record)

	notices := func() []string {
		rows, err := pool.Query(ctx, `SELECT chat_id, body FROM outbox WHERE salon_id = $1 ORDER BY id`, b.salonID)
		require.NoError(t, err)
		defer rows.Close()
		var out []string
		for rows.Next() {
			var chat string
			var body []byte
			require.NoError(t, rows.Scan(&chat, &body))
			var o messaging.Outgoing
			require.NoError(t, json.Unmarshal(body, &o))
			require.Equal(t, "12345", chat)
			out = append(out, o.Reply.Text)
		}
		return out
	}

	held, err := b.svc.Book(ctx, b.req("anna", b.at(3, 10, 0), "n1"))
	require.NoError(t, err)
	require.Empty(t, notices(), "a hold is no booking yet")
	_, err = b.svc.Confirm(ctx, b.salonID, held.ID)
	require.NoError(t, err)
	_, err = b.svc.Reschedule(ctx, b.salonID, held.ID, b.at(3, 12, 0))
	require.NoError(t, err)
	_, err = b.svc.Cancel(ctx, b.salonID, held.ID)
	require.NoError(t, err)
	r := b.req("boris", b.at(3, 10, 0), "n2")
	r.Confirm = true
	_, err = b.svc.Book(ctx, r)
	require.NoError(t, err, "Boris has no chat: nothing is queued for him")
	r = b.req("anna", b.at(4, 10, 0), "n3")
	r.Client.Name = "Olga Petrova"
	r.Confirm = true
	olga, err := b.svc.Book(ctx, r)
	require.NoError(t, err)
	for range 2 { // "I'll come" pressed twice: one notice
		_, err = b.svc.Coming(ctx, b.salonID, olga.ID)
		require.NoError(t, err)
	}
	require.Equal(t, []string{
		"New booking. Master: Anna. Haircut, Wednesday, 3 March at 10:00, Client.",
		"Booking moved. Master: Anna. Haircut, Client, now Wednesday, 3 March at 12:00 (was Wednesday, 3 March at 10:00).",
		"Booking cancelled. Master: Anna. Haircut, Wednesday, 3 March at 12:00, Client.",
		"New booking. Master: Anna. Haircut, Thursday, 4 March at 10:00, Olga.",
		"Olga confirmed they'll be there. Master: Anna. Haircut, Thursday, 4 March at 10:00.",
	}, notices(), "in the salon's first language and zone, the client by first name only")
}

// endsRequest is a booking store whose transactions end the request's context
// as soon as they are over, as a client that disconnects right after the commit
// would; with rollback set, each change is rolled back after it was made.
type endsRequest struct {
	booking.Store
	cancel   context.CancelFunc
	rollback bool
}

func (s *endsRequest) WithTx(ctx context.Context, fn func(booking.Tx) error) error {
	err := s.Store.WithTx(ctx, func(tx booking.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if s.rollback {
			return errors.New("rolled back after the change")
		}
		return nil
	})
	s.cancel()
	return err
}

// TestStaffNoticeIffTheChangeCommits: a staff notice is in the outbox if and
// only if its booking change committed, whatever happens to the request after
// the commit.
func TestStaffNoticeIffTheChangeCommits(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	setup := pgtest.Setup(b.salonID)
	setup.StaffChats = map[string]int64{"anna": 12345}
	_, err := b.store.Apply(ctx, setup)
	require.NoError(t, err)
	pool := pgtest.Pool(t)
	var calendar atomic.Int32 // stands for the calendar job, recorded before the notice
	b.store.FollowChanges(func(context.Context, pgx.Tx, booking.Change) error { calendar.Add(1); return nil })
	b.store.FollowChanges(pipeline.NewStaffNotices("telegram", func(n dialog.StaffNotice) string { return string(n.Kind) }, slog.New(slog.DiscardHandler)).Record)
	notices := func() int {
		var n int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE salon_id = $1`, b.salonID).Scan(&n))
		return n
	}
	service := func(rollback bool) (*booking.Service, context.Context) {
		rctx, cancel := context.WithCancel(ctx)
		t.Cleanup(cancel)
		return booking.New(&endsRequest{Store: b.store, cancel: cancel, rollback: rollback}, b.clock), rctx
	}
	held, err := b.svc.Book(ctx, b.req("anna", b.at(3, 10, 0), "c1"))
	require.NoError(t, err)

	svc, rctx := service(true)
	_, err = svc.Confirm(rctx, b.salonID, held.ID)
	require.Error(t, err)
	require.Zero(t, notices(), "a change rolled back leaves no notice")

	svc, rctx = service(false)
	_, err = svc.Confirm(rctx, b.salonID, held.ID)
	require.NoError(t, err)
	require.Equal(t, 1, notices(), "a committed change has its notice although the request ended right after the commit")

	svc, rctx = service(false)
	_, err = svc.Cancel(rctx, b.salonID, held.ID)
	require.NoError(t, err)
	require.Equal(t, 2, notices())

	r := b.req("anna", b.at(4, 10, 0), "c2")
	r.Confirm = true
	svc, rctx = service(false)
	_, err = svc.Book(rctx, r)
	require.NoError(t, err)
	require.Equal(t, 3, notices(), "a booking made confirmed has its notice")
	require.EqualValues(t, 4, calendar.Load(), "every change (the rolled-back one too) reached the record added before the notices")
}

// TestNothingIsQueuedToABlockedChat: once a chat has blocked the bot, nothing
// queued for it afterwards is handed to a sender (a staff notice, or a reply a
// step writes to it) until the chat writes again.
func TestNothingIsQueuedToABlockedChat(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	setup := pgtest.Setup(b.salonID)
	setup.StaffChats = map[string]int64{"anna": 12345}
	_, err := b.store.Apply(ctx, setup)
	require.NoError(t, err)
	pool := pgtest.Pool(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&syncWriter{w: &logs}, nil))
	b.store.FollowChanges(pipeline.NewStaffNotices("telegram", func(n dialog.StaffNotice) string { return string(n.Kind) }, log).Record)
	in, out := pipeline.NewInbox(pool, b.salonID), pipeline.NewOutbox(pool, b.salonID)
	due := func() []string {
		qs, err := out.Due(ctx, "telegram", 10, 10)
		require.NoError(t, err)
		var chats []string
		for _, q := range qs {
			chats = append(chats, q.Outgoing.ChatID)
			require.NoError(t, out.Done(ctx, q, ""))
		}
		return chats
	}
	// A step of chat 777 that also writes to the master's chat.
	step := func(update string) {
		require.NoError(t, in.Add(ctx, "telegram", update, "777", []byte("x"), ""))
		found, err := in.Next(ctx, "telegram", func(p messaging.Pending) (messaging.Handled, error) {
			return messaging.Handled{Out: []messaging.Outgoing{
				{ChatID: "777", Reply: &dialog.Reply{Text: "to the client"}},
				{ChatID: "12345", Reply: &dialog.Reply{Text: "to the master"}},
			}}, nil
		})
		require.NoError(t, err)
		require.True(t, found)
	}

	require.NoError(t, out.Block(ctx, messaging.Queued{Channel: "telegram", Outgoing: messaging.Outgoing{ChatID: "12345"}}))
	r := b.req("anna", b.at(3, 10, 0), "b1")
	r.Confirm = true
	booked, err := b.svc.Book(ctx, r)
	require.NoError(t, err)
	step("1")
	require.Equal(t, []string{"777"}, due(), "nothing goes to the master's chat while it blocks the bot")
	warned := logs.String()
	require.Contains(t, warned, `"level":"WARN","msg":"staff notice not sent: the master's chat blocked the bot; notices resume once it writes to the bot"`)
	require.Contains(t, warned, `"booking":"`+booked.ID+`"`)
	require.Contains(t, warned, `"master":"anna"`)
	require.NotContains(t, warned, "12345", "no chat id in the log")
	logs.Reset()

	// The master writes again: the chat is open again.
	require.NoError(t, in.Add(ctx, "telegram", "2", "12345", []byte("x"), ""))
	_, err = in.Next(ctx, "telegram", func(p messaging.Pending) (messaging.Handled, error) {
		return messaging.Handled{Out: []messaging.Outgoing{{ChatID: p.ChatID, Reply: &dialog.Reply{Text: "hello"}}}}, nil
	})
	require.NoError(t, err)
	require.Equal(t, []string{"12345"}, due())
	_, err = b.svc.Cancel(ctx, b.salonID, booked.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"12345"}, due(), "the cancellation's notice goes out")
	require.Empty(t, logs.String(), "a notice sent is not logged")
}

// syncWriter serializes writes to w (a log written from several goroutines).
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// TestStaffNoticesOfAMoveToAnotherMaster: a move to another master tells the
// old master the booking is gone (at its old time) and the new master it is
// theirs.
func TestStaffNoticesOfAMoveToAnotherMaster(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	setup := pgtest.Setup(b.salonID)
	setup.StaffChats = map[string]int64{"anna": 111, "boris": 222}
	_, err := b.store.Apply(ctx, setup)
	require.NoError(t, err)
	catalog, err := i18n.Load()
	require.NoError(t, err)
	salon, err := b.svc.Catalog(ctx, b.salonID)
	require.NoError(t, err)
	b.store.FollowChanges(pipeline.NewStaffNotices("telegram", dialog.StaffText(catalog, salon.Salon), slog.New(slog.DiscardHandler)).Record)
	r := b.req("anna", b.at(3, 10, 0), "m1")
	r.Confirm = true
	bk, err := b.svc.Book(ctx, r)
	require.NoError(t, err)
	_, err = b.svc.Move(ctx, b.salonID, bk.ID, "boris", b.at(3, 12, 0))
	require.NoError(t, err)

	rows, err := pgtest.Pool(t).Query(ctx, `SELECT chat_id, body FROM outbox WHERE salon_id = $1 ORDER BY id`, b.salonID)
	require.NoError(t, err)
	defer rows.Close()
	var got []string
	for rows.Next() {
		var chat string
		var body []byte
		require.NoError(t, rows.Scan(&chat, &body))
		var o messaging.Outgoing
		require.NoError(t, json.Unmarshal(body, &o))
		got = append(got, chat+": "+o.Reply.Text)
	}
	require.Equal(t, []string{
		"111: New booking. Master: Anna. Haircut, Wednesday, 3 March at 10:00, Client.",
		"111: Booking cancelled. Master: Anna. Haircut, Wednesday, 3 March at 10:00, Client.",
		"222: New booking. Master: Boris. Haircut, Wednesday, 3 March at 12:00, Client.",
	}, got)
}

// TestStaffNoticeNamesTheMasterInTheSalonsLanguage: a master with names per
// language (masters.names) is named in the staff chat's language, the
// salon's first.
func TestStaffNoticeNamesTheMasterInTheSalonsLanguage(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	setup := pgtest.Setup(b.salonID)
	setup.Salon.Locales = []string{"ru", "en"}
	setup.Masters[0].Names = map[string]string{"ru": "Анна", "en": "Anna"}
	setup.StaffChats = map[string]int64{"anna": 12345}
	_, err := b.store.Apply(ctx, setup)
	require.NoError(t, err)
	catalog, err := i18n.Load()
	require.NoError(t, err)
	salon, err := b.svc.Catalog(ctx, b.salonID)
	require.NoError(t, err)
	b.store.FollowChanges(pipeline.NewStaffNotices("telegram", dialog.StaffText(catalog, salon.Salon), slog.New(slog.DiscardHandler)).Record)

	r := b.req("anna", b.at(3, 10, 0), "ru1")
	r.Confirm = true
	_, err = b.svc.Book(ctx, r)
	require.NoError(t, err)
	var body []byte
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT body FROM outbox WHERE salon_id = $1`, b.salonID).Scan(&body))
	var o messaging.Outgoing
	require.NoError(t, json.Unmarshal(body, &o))
	require.Contains(t, o.Reply.Text, "Мастер: Анна.")
	require.NotContains(t, o.Reply.Text, "Anna")
}
