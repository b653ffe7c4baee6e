package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestServeLinksNoTestHarness: the production binary carries no fake, load
// harness or test server (they live in src/cmd/loadtest and in tests).
func TestServeLinksNoTestHarness(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "salonbook/src/cmd/salonbook").Output()
	require.NoError(t, err, "go list -deps salonbook/src/cmd/salonbook")
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "salonbook/src/adapters/telegram", "go list -deps answered")
	for _, dep := range deps {
		for _, forbidden := range []string{"net/http/httptest", "salonbook/src/adapters/telegram/telegramtest",
			"salonbook/src/adapters/whatsapp/whatsapptest"} {
			require.NotEqual(t, forbidden, dep, "salonbook links %s", dep)
		}
	}
}
