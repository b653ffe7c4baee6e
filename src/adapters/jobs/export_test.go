package jobs

import (
	"context"

	"github.com/riverqueue/river"

	"salonbook/src/core/adreport"
)

// CountsSQL is Counts' statement, for its plan.
const CountsSQL = countsSQL

// WorkReport runs the ad report worker of salonID on job, as river would.
func WorkReport(ctx context.Context, rep *adreport.Reporter, salonID string, job *river.Job[ReportArgs]) error {
	return (&reportWorker{rep: rep, salonID: salonID}).Work(ctx, job)
}
