package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"salonbook/src/core"
	"salonbook/src/core/staff"
)

// SalonSetup is everything a salon file declares.
type SalonSetup struct {
	Salon      core.Salon
	Services   []core.Service
	Masters    []core.Master
	StaffChats map[string]int64 // master id → Telegram chat id for staff notices
	// Staff are the desk's accounts; an account the database has and Staff
	// lacks is deleted with its sessions. Passwords are kept (SetPassword).
	Staff []staff.Account
}

// Apply makes the database hold exactly the salon described by setup, in one
// transaction, and returns how many rows it changed: applying the same setup
// twice changes nothing the second time. A service or master missing from setup
// is deactivated, never deleted, so its bookings keep their history; such a
// master's calendar feed is deleted (re-added, they need a new link).
func (s *Store) Apply(ctx context.Context, setup SalonSetup) (int64, error) {
	var changed int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		exec := func(what, sql string, args ...any) error {
			tag, err := tx.Exec(ctx, sql, args...)
			if err != nil {
				return mapErr(err, what)
			}
			changed += tag.RowsAffected()
			return nil
		}
		sl, p := setup.Salon, setup.Salon.Policy
		if err := exec("upsert salon", `
			INSERT INTO salons AS s (salon_id, name, timezone, locales, phone, address, slot_step_seconds,
			       min_notice_seconds, horizon_seconds, hold_seconds, cancel_cutoff_seconds, max_upcoming,
			       reminders_seconds, waitlist_offer_seconds, staff_summary_minute, country, privacy_url,
			       deposit_when, payment_window_seconds, deposit_refund_cutoff_seconds, ads_phone_consent)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
			ON CONFLICT (salon_id) DO UPDATE SET name = excluded.name, timezone = excluded.timezone,
			       locales = excluded.locales, phone = excluded.phone, address = excluded.address,
			       slot_step_seconds = excluded.slot_step_seconds, min_notice_seconds = excluded.min_notice_seconds,
			       horizon_seconds = excluded.horizon_seconds, hold_seconds = excluded.hold_seconds,
			       cancel_cutoff_seconds = excluded.cancel_cutoff_seconds, max_upcoming = excluded.max_upcoming,
			       reminders_seconds = excluded.reminders_seconds, waitlist_offer_seconds = excluded.waitlist_offer_seconds,
			       staff_summary_minute = excluded.staff_summary_minute, country = excluded.country,
			       privacy_url = excluded.privacy_url, deposit_when = excluded.deposit_when,
			       payment_window_seconds = excluded.payment_window_seconds,
			       deposit_refund_cutoff_seconds = excluded.deposit_refund_cutoff_seconds,
			       ads_phone_consent = excluded.ads_phone_consent, updated_at = now()
			WHERE (s.name, s.timezone, s.locales, s.phone, s.address, s.slot_step_seconds, s.min_notice_seconds,
			       s.horizon_seconds, s.hold_seconds, s.cancel_cutoff_seconds, s.max_upcoming,
			       s.reminders_seconds, s.waitlist_offer_seconds, s.staff_summary_minute, s.country, s.privacy_url,
			       s.deposit_when, s.payment_window_seconds, s.deposit_refund_cutoff_seconds, s.ads_phone_consent)
			   IS DISTINCT FROM (excluded.name, excluded.timezone, excluded.locales, excluded.phone, excluded.address,
			       excluded.slot_step_seconds, excluded.min_notice_seconds, excluded.horizon_seconds,
			       excluded.hold_seconds, excluded.cancel_cutoff_seconds, excluded.max_upcoming,
			       excluded.reminders_seconds, excluded.waitlist_offer_seconds, excluded.staff_summary_minute,
			       excluded.country, excluded.privacy_url,
			       excluded.deposit_when, excluded.payment_window_seconds, excluded.deposit_refund_cutoff_seconds,
			       excluded.ads_phone_consent)`,
			sl.ID, sl.Name, sl.Timezone.String(), sl.Locales, sl.Phone, sl.Address, seconds(p.SlotStep),
			seconds(p.MinNotice), seconds(p.Horizon), seconds(p.Hold), seconds(p.CancelCutoff), p.MaxUpcoming,
			reminderSeconds(p.Reminders), seconds(p.OfferHold()), summaryMinute(p.StaffSummary), sl.Country, sl.PrivacyURL,
			depositWhen(p.DepositWhen), optSeconds(p.PaymentWindow), optSeconds(p.DepositRefundCutoff), p.AdsPhoneConsent); err != nil {
			return err
		}
		// Reminders turned off, or an offset removed: the reminders already
		// scheduled for it go too (none is sent that the policy no longer
		// has). Those already queued in the outbox still go. A newly added
		// offset is not backfilled: bookings made before get only the offsets
		// they were booked with.
		if _, err := tx.Exec(ctx, `DELETE FROM reminders WHERE salon_id = $1 AND sent_at IS NULL AND offset_seconds <> ALL($2)`,
			sl.ID, reminderSeconds(p.Reminders)); err != nil {
			return mapErr(err, "drop reminders off the policy")
		}

		serviceIDs := make([]string, 0, len(setup.Services))
		for i, v := range setup.Services {
			serviceIDs = append(serviceIDs, v.ID)
			if err := exec("upsert service", `
				INSERT INTO services AS v (salon_id, service_id, names, duration_seconds, buffer_before_seconds,
				       buffer_after_seconds, price_minor, currency, active, position, deposit_minor, deposit_percent, aliases)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, true, $9, $10, $11, $12)
				ON CONFLICT (salon_id, service_id) DO UPDATE SET names = excluded.names,
				       duration_seconds = excluded.duration_seconds, buffer_before_seconds = excluded.buffer_before_seconds,
				       buffer_after_seconds = excluded.buffer_after_seconds, price_minor = excluded.price_minor,
				       currency = excluded.currency, active = true, position = excluded.position,
				       deposit_minor = excluded.deposit_minor, deposit_percent = excluded.deposit_percent,
				       aliases = excluded.aliases, updated_at = now()
				WHERE (v.names, v.duration_seconds, v.buffer_before_seconds, v.buffer_after_seconds, v.price_minor,
				       v.currency, v.active, v.position, v.deposit_minor, v.deposit_percent, v.aliases)
				   IS DISTINCT FROM (excluded.names, excluded.duration_seconds, excluded.buffer_before_seconds,
				       excluded.buffer_after_seconds, excluded.price_minor, excluded.currency, true, excluded.position,
				       excluded.deposit_minor, excluded.deposit_percent, excluded.aliases)`,
				sl.ID, v.ID, v.Name, seconds(v.Duration), seconds(v.BufferBefore), seconds(v.BufferAfter),
				v.Price.Minor, v.Price.Currency, i, optMinor(v.Deposit.Minor), optPercent(v.Deposit.Percent), nonNil(v.Aliases)); err != nil {
				return err
			}
		}
		if err := exec("deactivate services", `
			UPDATE services SET active = false, updated_at = now()
			WHERE salon_id = $1 AND active AND NOT (service_id = ANY($2))`, sl.ID, serviceIDs); err != nil {
			return err
		}

		masterIDs := make([]string, 0, len(setup.Masters))
		for i, m := range setup.Masters {
			masterIDs = append(masterIDs, m.ID)
			hours, err := jsonHours(m.Hours)
			if err != nil {
				return fmt.Errorf("postgres: master %s hours: %w", m.ID, err)
			}
			daysOff := make([]time.Time, 0, len(m.DaysOff))
			for _, d := range m.DaysOff {
				daysOff = append(daysOff, time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC))
			}
			var chat *int64
			if id, ok := setup.StaffChats[m.ID]; ok {
				chat = &id
			}
			if err := exec("upsert master", `
				INSERT INTO masters AS m (salon_id, master_id, name, hours, days_off, calendar, telegram_chat_id, active, position,
				       aliases, names)
				VALUES ($1, $2, $3, $4, $5::date[], $6, $7, true, $8, $9, $10)
				ON CONFLICT (salon_id, master_id) DO UPDATE SET name = excluded.name, hours = excluded.hours,
				       days_off = excluded.days_off, calendar = excluded.calendar,
				       telegram_chat_id = excluded.telegram_chat_id, active = true, position = excluded.position,
				       aliases = excluded.aliases, names = excluded.names, updated_at = now()
				WHERE (m.name, m.hours, m.days_off, m.calendar, m.telegram_chat_id, m.active, m.position, m.aliases, m.names)
				   IS DISTINCT FROM (excluded.name, excluded.hours, excluded.days_off, excluded.calendar,
				       excluded.telegram_chat_id, true, excluded.position, excluded.aliases, excluded.names)`,
				sl.ID, m.ID, m.Name, hours, daysOff, m.Calendar, chat, i, nonNil(m.Aliases), masterNames(m.Names)); err != nil {
				return err
			}
			if err := exec("add master services", `
				INSERT INTO master_services (salon_id, master_id, service_id)
				SELECT $1, $2, unnest($3::text[]) ON CONFLICT DO NOTHING`, sl.ID, m.ID, m.Services); err != nil {
				return err
			}
			if err := exec("drop master services", `
				DELETE FROM master_services WHERE salon_id = $1 AND master_id = $2 AND NOT (service_id = ANY($3))`,
				sl.ID, m.ID, m.Services); err != nil {
				return err
			}
		}
		if err := exec("deactivate masters", `
			UPDATE masters SET active = false, updated_at = now()
			WHERE salon_id = $1 AND active AND NOT (master_id = ANY($2))`, sl.ID, masterIDs); err != nil {
			return err
		}
		// A master who leaves loses their calendar feed: back in the file, they
		// need a new link (the old one, perhaps still in a former master's
		// phone, stays dead).
		if err := exec("drop calendar feeds of masters gone", `
			DELETE FROM calendar_feeds WHERE salon_id = $1 AND NOT (master_id = ANY($2))`, sl.ID, masterIDs); err != nil {
			return err
		}
		return applyStaff(setup, exec)
	})
	if err != nil {
		return 0, passCore(err, "apply salon")
	}
	s.forget(setup.Salon.ID)
	return changed, nil
}

func seconds(d time.Duration) int32 { return int32(d / time.Second) }

// optSeconds is a column whose NULL is the core's default: 0 is NULL.
func optSeconds(d time.Duration) *int32 {
	if d <= 0 {
		return nil
	}
	s := seconds(d)
	return &s
}

// depositWhen is the deposit_when column's value: "" is never.
func depositWhen(w core.DepositWhen) string {
	if w == "" {
		return "never"
	}
	return string(w)
}

func optMinor(v int64) *int64 {
	if v <= 0 {
		return nil
	}
	return &v
}

func optPercent(v int) *int32 {
	if v <= 0 {
		return nil
	}
	p := int32(v)
	return &p
}

// reminderSeconds is the reminders column's value: never NULL, '{}' when off.
func reminderSeconds(ds []time.Duration) []int32 {
	out := make([]int32, 0, len(ds))
	for _, d := range ds {
		out = append(out, seconds(d))
	}
	return out
}

// summaryMinute is the staff summary column's value: NULL when off.
func summaryMinute(at *core.ClockTime) *int32 {
	if at == nil {
		return nil
	}
	m := int32(*at)
	return &m
}

// applyStaff makes staff_accounts hold exactly setup.Staff: role and master
// follow the file, the password hash stays; an account left out is deleted,
// and its sessions with it (ON DELETE CASCADE).
func applyStaff(setup SalonSetup, exec func(what, sql string, args ...any) error) error {
	logins := make([]string, 0, len(setup.Staff))
	for _, a := range setup.Staff {
		logins = append(logins, a.Login)
		var master *string
		if a.Role == staff.Master {
			master = &a.MasterID
		}
		if err := exec("upsert staff account", `
			INSERT INTO staff_accounts AS a (salon_id, login, role, master_id)
			VALUES ($1, $2, $3, $4)
			ON CONFLICT (salon_id, login) DO UPDATE SET role = excluded.role, master_id = excluded.master_id,
			       updated_at = now()
			WHERE (a.role, a.master_id) IS DISTINCT FROM (excluded.role, excluded.master_id)`,
			setup.Salon.ID, a.Login, string(a.Role), master); err != nil {
			return err
		}
	}
	return exec("delete staff accounts", `
		DELETE FROM staff_accounts WHERE salon_id = $1 AND NOT (login = ANY($2))`, setup.Salon.ID, logins)
}

// masterNames stores no names by language as an empty object (the column is
// NOT NULL).
func masterNames(names map[string]string) map[string]string {
	if names == nil {
		return map[string]string{}
	}
	return names
}

// nonNil stores no aliases as an empty array (the columns are NOT NULL).
func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}
