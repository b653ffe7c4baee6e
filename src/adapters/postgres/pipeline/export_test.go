package pipeline

import "time"

// InsertInbox is the statement Inbox.Add and GroupCommit store updates with,
// for tests that run it inside a transaction of their own.
const InsertInbox = insertInbox

// SetRepairTimeout shortens how long one Repair of in may take.
func SetRepairTimeout(in *Inbox, d time.Duration) { in.repairTimeout = d }
