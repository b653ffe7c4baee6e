package salonfile

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"salonbook/src/core"
)

// maxProblems bounds how many problems one rejection lists: enough to fix a file in
// one pass, few enough to read.
const maxProblems = 20

// Error is one problem in a salon file: where it is and what is wrong. Parse and
// Load return every problem they find, each as an *Error, joined under one
// core error with code core.EInvalid and key "salonfile.invalid".
type Error struct {
	File  string // the file's path; set by Load, empty from Parse
	Line  int    // 1-based; 0 when the problem has no single place
	Field string // path of the field, e.g. "masters[0].hours.mon[1]"; empty for YAML syntax errors
	Msg   string
}

// Error formats e as "salon.yaml:7: masters[0].hours.mon[1]: message", or with
// "line 7" in place of the file and line when no file name is known.
func (e *Error) Error() string {
	s := ""
	switch {
	case e.File != "" && e.Line > 0:
		s = e.File + ":" + strconv.Itoa(e.Line) + ": "
	case e.File != "":
		s = e.File + ": "
	case e.Line > 0:
		s = "line " + strconv.Itoa(e.Line) + ": "
	}
	if e.Field != "" {
		s += e.Field + ": "
	}
	return s + e.Msg
}

// invalid wraps the problems, in the order of their lines, as one core error. It
// builds the core.Error itself rather than through core.Errorf so the problems are
// not repeated in both its detail and its cause.
func invalid(file string, problems []*Error) error {
	slices.SortStableFunc(problems, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
	errs := make([]error, 0, min(len(problems), maxProblems)+1)
	for i, p := range problems {
		if i == maxProblems {
			errs = append(errs, fmt.Errorf("and %d more problems", len(problems)-maxProblems))
			break
		}
		p.File = file
		errs = append(errs, p)
	}
	return core.Errorf(core.EInvalid, "salonfile.invalid", "salonfile: invalid salon file:\n%w", errors.Join(errs...))
}
