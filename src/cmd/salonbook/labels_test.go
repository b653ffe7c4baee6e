package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/core/i18n"
)

// TestConfigTelegramLabels: a key a language lacks gives "" (the Transport's
// default words), never the key itself as a button's label.
func TestConfigTelegramLabels(t *testing.T) {
	t.Parallel()
	catalog, err := i18n.Load()
	require.NoError(t, err)
	for _, lang := range catalog.Languages() {
		p := catalog.Printer(lang, time.UTC)
		require.Empty(t, label(p, "btn.no_such_label"), lang)
		for _, key := range []string{"btn.share_contact", "chat.keyboard_gone"} {
			require.NotEmpty(t, label(p, key), "%s %s", lang, key)
			require.NotEqual(t, key, label(p, key), "%s %s", lang, key)
		}
	}
}
