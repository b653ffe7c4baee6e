package desk

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"unicode/utf8"

	"salonbook/src/core/staff"
)

// JobStore reads the background jobs (river's) of the salon (jobs.Board).
type JobStore interface {
	// Counts returns the salon's jobs by kind and state.
	Counts(ctx context.Context, salonID string) ([]staff.JobCount, error)
	// Problems returns the latest limit jobs that failed, latest first.
	Problems(ctx context.Context, salonID string, limit int) ([]staff.JobProblem, error)
}

// /admin/jobs, for owners: river's jobs as a plain table, counts by kind and
// state and the latest jobs that failed with their last error. River's own UI
// (riverqueue.com/riverui) was not taken: it is a JavaScript application (the
// desk's pages run no script, by their CSP), a module of its own to keep in
// step with river's version, and it shows every job's args and offers actions
// (retry, cancel, delete) that would need the desk's sessions and CSRF put in
// front of its API. Today's args are a salon id and a booking id; an error is
// shown cleaned (cleanJobError) and cut, in case a future one quotes a person.

// JobProblemsShown is how many failed jobs the page lists.
const JobProblemsShown = 50

// jobStates is the order of the counts' columns: waiting, working, then ended.
var jobStates = []string{"available", "scheduled", "pending", "running", "retryable", "completed", "cancelled", "discarded"}

func (d *desk) jobRoutes(mux *http.ServeMux) {
	if d.cfg.Jobs == nil {
		return
	}
	mux.Handle("GET /admin/jobs", d.authed(d.jobs))
}

type jobsPage struct {
	Title, Salon string
	V            *viewer
	Kinds        []string   // the columns
	States       []jobState // the rows
	Problems     []jobProblem
}

type jobState struct {
	State  string
	Counts []string // by Kinds; "·" for none
}

type jobProblem struct {
	ID, Kind, State, Attempt, At, Next, BookingID, Error string
}

func (d *desk) jobs(w http.ResponseWriter, r *http.Request, v *viewer) {
	if !v.Owner() {
		d.problem(w, r, v, http.StatusForbidden, "Only the owner can see the background jobs.")
		return
	}
	cat, err := d.cfg.Catalog.Catalog(r.Context(), d.cfg.SalonID)
	if err != nil {
		d.failed(w, r, v, err)
		return
	}
	counts, err := d.cfg.Jobs.Counts(r.Context(), d.cfg.SalonID)
	if err != nil {
		d.failed(w, r, v, err)
		return
	}
	problems, err := d.cfg.Jobs.Problems(r.Context(), d.cfg.SalonID, JobProblemsShown)
	if err != nil {
		d.failed(w, r, v, err)
		return
	}
	zone := cat.Salon.Timezone
	p := jobsPage{Title: "Background jobs", Salon: cat.Salon.Name, V: v}
	// States down (they are more), kinds across: narrow enough for a phone.
	col := map[string]int{}
	for _, c := range counts {
		if _, ok := col[c.Kind]; !ok {
			col[c.Kind] = len(p.Kinds)
			p.Kinds = append(p.Kinds, c.Kind)
		}
	}
	row := map[string]int{}
	for i, s := range jobStates {
		row[s] = i
		st := jobState{State: s, Counts: make([]string, len(p.Kinds))}
		for j := range st.Counts {
			st.Counts[j] = "·"
		}
		p.States = append(p.States, st)
	}
	for _, c := range counts {
		if i, ok := row[c.State]; ok && c.N > 0 {
			p.States[i].Counts[col[c.Kind]] = strconv.FormatInt(c.N, 10)
		}
	}
	for _, j := range problems {
		jp := jobProblem{ID: strconv.FormatInt(j.ID, 10), Kind: j.Kind, State: j.State,
			Attempt: strconv.Itoa(j.Attempt) + " of " + strconv.Itoa(j.MaxAttempts),
			At:      when(j.At, zone), BookingID: j.BookingID, Error: cleanJobError(j.Error)}
		if !j.Next.IsZero() {
			jp.Next = when(j.Next, zone)
		}
		p.Problems = append(p.Problems, jp)
	}
	d.render(w, http.StatusOK, "jobs.html", p)
}

var (
	emailLike = regexp.MustCompile(`[^\s<>"'(),;:]+@[^\s<>"'(),;:]+`)
	phoneLike = regexp.MustCompile(`\+?\d[\d ().-]{5,}\d`)
)

// JobErrorMax is how much of a job's error the page shows.
const JobErrorMax = 300

// cleanJobError is an error as the jobs page shows it: addresses and numbers
// that could be a phone (7 digits or more) blotted out, cut to JobErrorMax
// characters. The calendar jobs' errors name neither (calsync.Failure says a
// status and a reason), but a page that owners leave open should not be where
// one first appears.
func cleanJobError(s string) string {
	s = emailLike.ReplaceAllString(s, "[address]")
	s = phoneLike.ReplaceAllStringFunc(s, func(m string) string {
		n := 0
		for _, r := range m {
			if r >= '0' && r <= '9' {
				n++
			}
		}
		if n < 7 {
			return m
		}
		return "[number]"
	})
	if utf8.RuneCountInString(s) > JobErrorMax {
		r := []rune(s)
		s = string(r[:JobErrorMax]) + "…"
	}
	return s
}
