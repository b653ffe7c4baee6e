package pgtest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// repo makes a directory that looks like the project: a go.mod and a scripts/db.sh
// with the given body, and a nested package directory to run from.
func repo(t *testing.T, script string) (root, pkg string) {
	t.Helper()
	root = t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "scripts"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "scripts", "db.sh"), []byte("#!/bin/sh\n"+script), 0o755))
	pkg = filepath.Join(root, "src", "adapters", "postgres")
	require.NoError(t, os.MkdirAll(pkg, 0o755))
	return root, pkg
}

func TestAdminURL(t *testing.T) {
	t.Parallel()

	t.Run("DatabaseURLWins", func(t *testing.T) {
		t.Parallel()
		_, pkg := repo(t, "exit 1\n")
		u, err := adminURL("postgres://db.example/x", func() (string, error) { return pkg, nil })
		require.NoError(t, err)
		require.Equal(t, "postgres://db.example/x", u)
	})

	t.Run("UnsetUsesTheProjectsPrivateCluster", func(t *testing.T) {
		t.Parallel()
		_, pkg := repo(t, `[ "$1" = url ] && echo 'postgres://postgres@127.0.0.1:54329/postgres?sslmode=disable'`+"\n")
		u, err := adminURL("", func() (string, error) { return pkg, nil })
		require.NoError(t, err)
		require.Equal(t, "postgres://postgres@127.0.0.1:54329/postgres?sslmode=disable", u)
	})

	t.Run("FailingScriptSaysHowToRunTheTests", func(t *testing.T) {
		t.Parallel()
		_, pkg := repo(t, "echo nope >&2; exit 3\n")
		_, err := adminURL("", func() (string, error) { return pkg, nil })
		require.ErrorContains(t, err, "set DATABASE_URL or run `make test`")
	})

	t.Run("OutsideTheRepositoryRefuses", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		_, err := adminURL("", func() (string, error) { return dir, nil })
		require.ErrorContains(t, err, "DATABASE_URL is unset")
	})
}
