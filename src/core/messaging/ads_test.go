package messaging

import (
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
// leaves the update to be tried again.
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
	_, err = w.step(Pending{ChatID: "8", Payload: []byte("ad:def")})
	require.Error(t, err, "tried again later")
	require.Equal(t, 3, chat.calls, "the step did not run")

	off := &Worker{SalonID: "s", Channel: "telegram", Decoder: adDecoder{}, Chat: chat, Log: slog.New(slog.DiscardHandler)}
	_, err = off.step(Pending{ChatID: "7", Payload: []byte("ad:abc")})
	require.NoError(t, err)
}
