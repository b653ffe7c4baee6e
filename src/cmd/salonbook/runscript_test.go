package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRunScriptKeepsServesStatus: `make run` (scripts/run.sh) exits with
// serve's status, so a failed start is not reported as success; Ctrl-C's 130 is
// a normal stop. Run in a copy of the script with stand-ins for db.sh and the
// binary.
func TestRunScriptKeepsServesStatus(t *testing.T) {
	t.Parallel()
	script, err := os.ReadFile(filepath.Join("..", "..", "..", "scripts", "run.sh"))
	require.NoError(t, err)
	for serve, want := range map[int]int{0: 0, 130: 0, 1: 1, 7: 7} {
		root := t.TempDir()
		for path, body := range map[string]string{
			"scripts/run.sh": string(script),
			"scripts/db.sh":  "#!/bin/sh\ncase $1 in url) echo postgres://stand-in ;; *) exit 3 ;; esac\n",
			"bin/salonbook":  "#!/bin/sh\n[ \"$1\" = serve ] && exit " + strconv.Itoa(serve) + "\nexit 0\n",
		} {
			require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, path)), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(root, path), []byte(body), 0o755))
		}
		cmd := exec.Command("bash", filepath.Join(root, "scripts", "run.sh"))
		cmd.Env = append(os.Environ(), "SALONBOOK_API_TOKEN=stand-in-token-0123456789")
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := errors.AsType[*exec.ExitError](err); ok {
			code = ee.ExitCode()
		} else {
			require.NoError(t, err)
		}
		require.Equal(t, want, code, "serve exited %d: %s", serve, out)
	}
}

// TestRunScriptPrintsARandomDeskPassword: `make run` sets the demo owner's
// desk password through `salonbook passwd owner` on stdin (never argv) and
// prints it; each start has a new one.
func TestRunScriptPrintsARandomDeskPassword(t *testing.T) {
	t.Parallel()
	script, err := os.ReadFile(filepath.Join("..", "..", "..", "scripts", "run.sh"))
	require.NoError(t, err)
	var seen []string
	for range 2 {
		root := t.TempDir()
		for path, body := range map[string]string{
			"scripts/run.sh": string(script),
			"scripts/db.sh":  "#!/bin/sh\ncase $1 in url) echo postgres://stand-in ;; *) exit 3 ;; esac\n",
			"bin/salonbook": "#!/bin/sh\nif [ \"$1\" = passwd ]; then echo \"$#\" > \"$(dirname \"$0\")/argc\"; cat > \"$(dirname \"$0\")/stdin\"; fi\n" +
				"exit 0\n",
		} {
			require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, path)), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(root, path), []byte(body), 0o755))
		}
		cmd := exec.Command("bash", filepath.Join(root, "scripts", "run.sh"))
		cmd.Env = append(os.Environ(), "SALONBOOK_API_TOKEN=stand-in-token-0123456789")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		argc, err := os.ReadFile(filepath.Join(root, "bin", "argc"))
		require.NoError(t, err)
		require.Equal(t, "2\n", string(argc), "passwd owner: the password is not an argument")
		stdin, err := os.ReadFile(filepath.Join(root, "bin", "stdin"))
		require.NoError(t, err)
		password := strings.TrimSpace(string(stdin))
		require.Len(t, password, 20)
		require.Contains(t, string(out), "log in as  owner  with password  "+password)
		seen = append(seen, password)
	}
	require.NotEqual(t, seen[0], seen[1], "a new password at every start")
}
