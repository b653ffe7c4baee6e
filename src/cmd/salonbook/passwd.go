package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/web/desk"
)

// runPasswd sets the desk password of a staff account of the salon served
// (SALONBOOK_SALON, or the only one). The password is read from the terminal
// without echo (asked twice), or else as the first line of in; never from the
// command line, where other users and the shell's history could see it. The
// account's sessions end.
func runPasswd(ctx context.Context, args []string, getenv func(string) string, in io.Reader, out, prompt io.Writer) error {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		return errors.New("usage: salonbook passwd LOGIN   (the password is read from the terminal or stdin)")
	}
	login := strings.ToLower(strings.TrimSpace(args[0]))
	cfg, err := loadConfig(getenv, need{database: true})
	if err != nil {
		return err
	}
	password, err := readPassword(in, prompt, login)
	if err != nil {
		return err
	}
	hash, err := desk.HashPassword(password)
	if err != nil {
		return fmt.Errorf("passwd: a password has %d to %d characters", desk.MinPassword, desk.MaxPassword)
	}
	pool, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	salonID, err := pickSalon(ctx, pool, cfg.SalonID)
	if err != nil {
		return err
	}
	if err := postgres.NewDesk(pool).SetPassword(ctx, salonID, login, hash, time.Now()); err != nil {
		return fmt.Errorf("passwd: %q is not a staff login of salon %s (list it under staff: in the salon file and apply it): %w", login, salonID, err)
	}
	fmt.Fprintf(out, "password set for %s in salon %s; their sessions have ended\n", login, salonID)
	return nil
}

// readPassword reads a password from the terminal (twice, no echo) when in is
// one, else the first line of in.
func readPassword(in io.Reader, prompt io.Writer, login string) (string, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(prompt, "New password for %s: ", login)
		first, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("passwd: read the password: %w", err)
		}
		fmt.Fprint(prompt, "Again: ")
		second, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("passwd: read the password: %w", err)
		}
		if string(first) != string(second) {
			return "", errors.New("passwd: the two passwords differ; nothing changed")
		}
		return string(first), nil
	}
	line, err := bufio.NewReader(io.LimitReader(in, 4*desk.MaxPassword+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("passwd: read the password from stdin: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
