package dialog

import "salonbook/src/core"

// The wait-list: a full working day offers "Notify me".

func (t *turn) joinWaitlist() {
	d, err := core.ParseDate(t.st.Day)
	if err != nil || t.e.waitlist == nil || !t.bookable(d) || !t.wholeDayBookable(d) || t.st.Step != stepTime {
		t.again()
		return
	}
	if free, err := t.free(d, 1); err != nil || len(free) > 0 {
		t.again() // the day has times again: they are shown instead
		return
	}
	err = t.e.waitlist.Join(t.ctx, WaitlistEntry{Key: t.key, ServiceID: t.st.Service, MasterID: t.st.Master,
		Day: d, ClientID: t.st.ClientID, Lang: t.st.Lang})
	t.reset()
	if err != nil {
		t.note = t.p.T("error.unavailable")
	} else {
		t.note = t.p.T("waitlist.joined", "Day", t.p.Date(d))
	}
	t.menu()
}
