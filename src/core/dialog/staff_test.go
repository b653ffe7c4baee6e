package dialog_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
	"salonbook/src/core/i18n"
)

// TestStaffTextServiceNameFallback: a service with no name in the salon's
// first language is named in the salon's next language that has one, else in
// the first language by name. Before, it took whichever name a map iteration
// gave first, so a notice's language changed from one to the next.
func TestStaffTextServiceNameFallback(t *testing.T) {
	t.Parallel()
	catalog, err := i18n.Load()
	require.NoError(t, err)
	start := time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		locales []string
		names   map[string]string
		want    string
	}{
		{[]string{"en", "pl", "ru"}, map[string]string{"ru": "Стрижка", "pl": "Strzyżenie", "de": "Haarschnitt"}, "Strzyżenie"},
		{[]string{"en"}, map[string]string{"it": "Taglio", "fr": "Coupe", "de": "Haarschnitt"}, "Haarschnitt"},
		{[]string{"en", "ru"}, map[string]string{"ru": "Стрижка", "en": "Haircut"}, "Haircut"},
	} {
		text := dialog.StaffText(catalog, &core.Salon{Timezone: time.UTC, Locales: c.locales})
		for range 50 { // a map's order changes from one iteration to the next
			got := text(dialog.StaffNotice{Kind: booking.Booked, Start: start, Service: c.names, Client: "Olga Petrova", Master: "Anna"})
			require.Contains(t, got, ". "+c.want+",", "locales %v", c.locales)
		}
	}
}
