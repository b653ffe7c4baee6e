package pipeline

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Offsets keeps one salon's Telegram getUpdates offset (long polling), so a
// restarted poller goes on where the last one stopped.
type Offsets struct {
	pool    *pgxpool.Pool
	salonID string
}

// NewOffsets returns the offset store of salonID.
func NewOffsets(pool *pgxpool.Pool, salonID string) *Offsets {
	return &Offsets{pool: pool, salonID: salonID}
}

// Load returns the saved offset, 0 when none was saved (getUpdates then starts
// with the oldest update Telegram still holds).
func (o *Offsets) Load(ctx context.Context) (int64, error) {
	var next int64
	err := o.pool.QueryRow(ctx, `SELECT next_offset FROM telegram_offsets WHERE salon_id = $1`, o.salonID).Scan(&next)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, mapErr(err, "load telegram offset")
	}
	return next, nil
}

// Save records next as the offset; it never moves the offset backwards, so a
// late save from an older batch cannot make updates be fetched again.
func (o *Offsets) Save(ctx context.Context, next int64) error {
	_, err := o.pool.Exec(ctx, `
		INSERT INTO telegram_offsets (salon_id, next_offset) VALUES ($1, $2)
		ON CONFLICT (salon_id) DO UPDATE
		SET next_offset = GREATEST(telegram_offsets.next_offset, EXCLUDED.next_offset), updated_at = now()`,
		o.salonID, next)
	return mapErr(err, "save telegram offset")
}
