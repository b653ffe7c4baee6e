package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"

	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/adapters/telegram/telegramtest"
)

// measureCeiling drives a minimal handler (insert the raw body into a scratch
// table, answer 200) with n Deliver calls of the fake Bot API and returns its
// acknowledgements per second: what a webhook that only stores could do here,
// now. Both channels are measured against it.
func measureCeiling(ctx context.Context, pool *pgxpool.Pool, n, parallel int) (float64, error) {
	table := "loadtest_ceiling_" + randomHex(4)
	if _, err := pool.Exec(ctx, `CREATE TABLE `+table+` (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, update_id text UNIQUE, payload bytea NOT NULL)`); err != nil {
		return 0, err
	}
	defer func() { _, _ = pool.Exec(context.WithoutCancel(ctx), `DROP TABLE `+table) }()
	idRe := regexp.MustCompile(`"update_id":(\d+)`)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "read", http.StatusBadRequest)
			return
		}
		var id string
		if m := idRe.FindSubmatch(body); m != nil {
			id = string(m[1])
		}
		if _, err := pool.Exec(r.Context(), `INSERT INTO `+table+` (update_id, payload) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, body); err != nil {
			http.Error(w, "store", http.StatusInternalServerError)
			return
		}
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	fake := telegramtest.New(telegramtest.Options{Limits: &telegramtest.Limits{}})
	fakeSrv := httptest.NewServer(fake)
	defer func() { fake.Close(); fakeSrv.Close() }()
	if err := setWebhook(fakeSrv.URL, fake.Token(), srv.URL, "ceiling-secret-0123456789"); err != nil {
		return 0, err
	}
	updates := make([]update, n)
	for i := range updates {
		chat := int64(8_000_000_000 + i)
		updates[i] = update{body: telegramtest.CommandUpdate(int64(900_000_000+i), chat, telegramtest.User{ID: chat, FirstName: "Ceil", LanguageCode: "en"}, "/start")}
	}
	var a acks
	fireAll(ctx, fake.Deliver, &a, updates, parallel)
	_, perSec, _, _, _, _ := a.summary()
	if a.fail > 0 {
		return perSec, fmt.Errorf("ceiling: %d deliveries failed", a.fail)
	}
	return perSec, nil
}
