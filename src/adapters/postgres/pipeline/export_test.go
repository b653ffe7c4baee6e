package pipeline

// InsertInbox is the statement Inbox.Add and GroupCommit store updates with,
// for tests that run it inside a transaction of their own.
const InsertInbox = insertInbox
