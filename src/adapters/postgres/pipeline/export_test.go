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

// SetRemindersLocked makes r's Tick run f in its transaction once it holds a
// channel's lock, before it counts the channel's backlog.
func SetRemindersLocked(r *Reminders, f func(context.Context, pgx.Tx)) { r.locked = f }

const BacklogSQL = backlogSQL

// ReminderBacklogSQL counts a channel's reminders waiting in the outbox.
const ReminderBacklogSQL = reminderBacklogSQL

// PushedSQL is Pushed.Pushed's read.
const PushedSQL = pushedSQL

const SummaryBookingsSQL = summaryBookingsSQL

// The reminders' statements that run inside booking transactions (plans tests).
const (
	ScheduleSQL  = scheduleSQL
	CancelSQL    = cancelSQL
	SupersedeSQL = supersedeSQL
	EarlierSQL   = earlierSQL
)

// TakeOutboxSlot holds one of out's connection slots until the returned func runs.
func TakeOutboxSlot(ctx context.Context, out *Outbox) (func(), error) { return out.take(ctx) }
