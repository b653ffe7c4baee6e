package core_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCoreImportsNoInfrastructure keeps the hexagon honest: nothing under src/core
// may depend on a database driver, a job queue, a chat or Google client, or HTTP.
func TestCoreImportsNoInfrastructure(t *testing.T) {
	t.Parallel()
	forbidden := []string{"github.com/jackc/pgx", "github.com/riverqueue/", "github.com/go-telegram/",
		"google.golang.org/api", "golang.org/x/oauth2", "net/http", "database/sql", "salonbook/src/adapters/"}
	for _, dep := range deps(t, "salonbook/src/core/...") {
		for _, f := range forbidden {
			require.False(t, strings.HasPrefix(dep, f), "src/core depends on %s (via go list -deps)", dep)
		}
	}
}

// TestAdaptersDoNotImportEachOther: only src/cmd wires adapters together.
func TestAdaptersDoNotImportEachOther(t *testing.T) {
	t.Parallel()
	const root = "salonbook/src/adapters/"
	out, err := exec.Command("go", "list", root+"...").Output()
	require.NoError(t, err)
	for _, pkg := range strings.Fields(string(out)) {
		own := root + strings.SplitN(strings.TrimPrefix(pkg, root), "/", 2)[0]
		for _, dep := range deps(t, pkg) {
			if strings.HasPrefix(dep, root) {
				require.True(t, dep == own || strings.HasPrefix(dep, own+"/"), "%s imports another adapter: %s", pkg, dep)
			}
		}
	}
}

func deps(t *testing.T, pattern string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pattern).Output()
	require.NoError(t, err, "go list -deps %s", pattern)
	return strings.Fields(string(out))
}
