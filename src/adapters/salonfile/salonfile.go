package salonfile

import (
	"errors"
	"io"
	"io/fs"
	"os"

	"salonbook/src/core"
	"salonbook/src/core/staff"
)

// maxSize bounds the file: a salon fits in a few kilobytes, and a bound keeps a
// mistaken path (a log, a dump) from being read into memory.
const maxSize = 1 << 20

// File is a parsed, validated salon file.
type File struct {
	Salon core.Salon
	// Services are in file order, each with SalonID set and Active true.
	Services []core.Service
	// Masters are in file order, each with SalonID set and Active true; each day's
	// ranges are sorted by start.
	Masters []core.Master
	// StaffChats maps a master's id to the Telegram chat that gets their staff
	// notices. It lives here, not on core.Master, because no core type may mention
	// a channel. Never nil.
	StaffChats map[string]int64
	// Staff are the desk's accounts, in file order; none when the file has no
	// staff section. Their passwords are set with `salonbook passwd`.
	Staff []staff.Account
}

// Parse reads and validates a salon file. An invalid file yields an error with
// code core.EInvalid and key "salonfile.invalid" that wraps every problem found
// (up to 20, in line order), each an *Error; errors.As finds the first.
func Parse(data []byte) (*File, error) {
	return parse(data, "")
}

// Load reads and validates the salon file at path, as Parse does, naming path in
// each problem. A file that cannot be read yields code core.ENotFound when it does
// not exist and core.EInvalid otherwise, with key "salonfile.unreadable".
func Load(path string) (*File, error) {
	data, err := readFile(path)
	if err != nil {
		code := core.EInvalid
		if errors.Is(err, fs.ErrNotExist) {
			code = core.ENotFound
		}
		return nil, core.Errorf(code, "salonfile.unreadable", "salonfile: read salon file: %w", err)
	}
	return parse(data, path)
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// One byte more than allowed, so that parse sees an oversized file and says so.
	return io.ReadAll(io.LimitReader(f, maxSize+1))
}

func parse(data []byte, file string) (*File, error) {
	p := &parser{}
	f := p.file(data)
	if p.tooLarge != nil {
		return nil, invalid(file, []*Error{p.tooLarge})
	}
	if len(p.problems) > 0 {
		return nil, invalid(file, p.problems)
	}
	if f == nil { // unreachable: every nil result records a problem
		return nil, invalid(file, []*Error{{Msg: "no content"}})
	}
	return f, nil
}
