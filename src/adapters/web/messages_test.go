package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// errorKeys finds the message keys the code below root can put in a core error:
// core.Errorf(code, "key", …) and &core.Error{…, Key: "key", …}.
var errorKeys = regexp.MustCompile(`Errorf\((?:core\.)?E[A-Za-z]+,\s*"([^"]+)"|Key:\s*"([^"]+)"`)

// TestEveryErrorKeyHasAMessage scans the use cases and the stores they call for
// the keys they return: each must have an API text, or the client reads
// "internal error" for an ordinary refusal.
func TestEveryErrorKeyHasAMessage(t *testing.T) {
	t.Parallel()
	keys := map[string]string{} // key → where
	for _, root := range []string{"../../core", "../postgres", "."} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range errorKeys.FindAllStringSubmatch(string(src), -1) {
				keys[m[1]+m[2]] = path
			}
			return nil
		})
		require.NoError(t, err)
	}
	require.Contains(t, keys, "booking.slot_taken", "the scan finds the keys")
	for key, path := range keys {
		if key == "error.internal" {
			continue
		}
		_, ok := messages[key]
		require.True(t, ok, "%s (%s) has no message: add it to messages", key, path)
	}
}
