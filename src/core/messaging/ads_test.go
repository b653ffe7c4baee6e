package messaging

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/core/dialog"
)

// adDecoder reads "ad:CODE" as a /start with an ad click's code, "group:CODE"
// as the same from a shared chat.
type adDecoder struct{}

func (adDecoder) Decode(raw []byte) (Decoded, error) {
	switch s := string(raw); {
	case len(s) > 3 && s[:3] == "ad:":
		return Decoded{Inbound: dialog.Inbound{Kind: dialog.KindCommand, Text: "start"}, Ad: &AdClick{Code: s[3:]}}, nil
	case len(s) > 6 && s[:6] == "group:":
		return Decoded{Inbound: dialog.Inbound{Kind: dialog.KindCommand, Text: "start", Shared: true}, Ad: &AdClick{Code: s[6:]}}, nil
	}
	return Decoded{Inbound: dialog.Inbound{Kind: dialog.KindText, Text: string(raw)}}, nil
}

type notedAds struct {
	keys  []dialog.ChatKey
	click []AdClick
	err   error
}

func (n *notedAds) Clicked(_ context.Context, key dialog.ChatKey, c AdClick, _ time.Time) error {
	n.keys, n.click = append(n.keys, key), append(n.click, c)
	return n.err
}

// The ad click an update carries is noted for its chat before the step; not
// from a shared chat, not without Ads (reporting off); a failure to note it
// is logged (the inbox row's id, never the chat's) and the chat goes on.
func TestWorkerNotesAdClicks(t *testing.T) {
	t.Parallel()
	ads := &notedAds{}
	chat := &countingChat{}
	w := &Worker{SalonID: "s", Channel: "telegram", Decoder: adDecoder{}, Chat: chat, Log: slog.New(slog.DiscardHandler), Ads: ads}
	_, err := w.step(Pending{ChatID: "7", Payload: []byte("ad:abc")})
	require.NoError(t, err)
	_, err = w.step(Pending{ChatID: "7", Payload: []byte("hello")})
	require.NoError(t, err)
	_, err = w.step(Pending{ChatID: "-9", Payload: []byte("group:abc")})
	require.NoError(t, err)
	require.Equal(t, []dialog.ChatKey{{SalonID: "s", Channel: "telegram", ChatID: "7"}}, ads.keys)
	require.Equal(t, []AdClick{{Code: "abc"}}, ads.click)

	ads.err = errors.New("database down")
	var logged bytes.Buffer
	w.Log = slog.New(slog.NewTextHandler(&logged, nil))
	_, err = w.step(Pending{ID: 41, ChatID: "8123", Payload: []byte("ad:def")})
	require.NoError(t, err, "the chat is not held up")
	require.Equal(t, 4, chat.calls, "the step ran")
	require.Contains(t, logged.String(), "ad click not noted")
	require.Contains(t, logged.String(), "inbox_id=41")
	require.NotContains(t, logged.String(), "8123")

	off := &Worker{SalonID: "s", Channel: "telegram", Decoder: adDecoder{}, Chat: chat, Log: slog.New(slog.DiscardHandler)}
	_, err = off.step(Pending{ChatID: "7", Payload: []byte("ad:abc")})
	require.NoError(t, err)
}
