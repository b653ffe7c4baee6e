package pipeline

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// InsertInbox is the statement Inbox.Add and GroupCommit store updates with,
// for tests that run it inside a transaction of their own.
const InsertInbox = insertInbox

// SetRepairTimeout shortens how long one Repair of in may take.
func SetRepairTimeout(in *Inbox, d time.Duration) { in.repairTimeout = d }

// SetRepairRead makes Repair of in run f between its read of the idle rows
// and their delete.
func SetRepairRead(in *Inbox, f func()) { in.repairRead = f }

// SetRemindersClaimed makes r's Tick run f in its transaction after it has
// claimed the due reminders, before it reads their bookings.
func SetRemindersClaimed(r *Reminders, f func(context.Context, pgx.Tx)) { r.claimed = f }

const BacklogSQL = backlogSQL

const SummaryBookingsSQL = summaryBookingsSQL

// The reminders' statements that run inside booking transactions (plans tests).
const (
	ScheduleSQL  = scheduleSQL
	CancelSQL    = cancelSQL
	SupersedeSQL = supersedeSQL
)
