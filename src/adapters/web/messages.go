package web

// messages are the API's English texts for the core's message keys. Chat channels
// translate the same keys through their catalogs.
var messages = map[string]string{
	"booking.slot_taken":      "that time was just taken; see alternatives",
	"booking.client_overlap":  "the client already has a booking at that time",
	"booking.in_past":         "the start is in the past",
	"booking.too_soon":        "the start is sooner than the salon's minimum notice",
	"booking.too_far":         "the start is beyond the salon's booking horizon",
	"booking.not_offered":     "the start is not an offered time (outside hours, a day off or off the slot grid)",
	"booking.hold_expired":    "the hold expired before it was confirmed",
	"booking.not_active":      "the booking is no longer active",
	"booking.started":         "the booking has started",
	"booking.cancel_too_late": "the booking starts within the cancellation cutoff; please call the salon",
	"booking.not_found":       "no such booking",
	"booking.not_started":     "the booking has not started yet: attendance is marked at or after its start",
	"booking.marked":          "the booking's attendance is marked; an owner must undo the mark first",
	"booking.reason_needed":   "a change inside the cancellation cutoff needs a reason",
	"booking.bad_reason":      "a reason or note must be at most 200 characters on one line",
	"booking.bad_block":       "a block must end after it starts, in whole minutes, and last at most 24 hours",
	"booking.block_overlap":   "a booking or another block stands in that time; move or cancel it first",
	"booking.too_many":        "the client, or this chat, already has as many upcoming bookings as the salon allows; cancel one first or call the salon",
	"waitlist.offer_live":     "the client already has a wait-list offer standing",
	"privacy.live":            "a booking of this client was made meanwhile; cancel it before erasing their data",
	"booking.key_reused":      "that idempotency key was already used for another request; use a new key for a new booking",
	"client.not_found":        "no such client",
	"service.not_found":       "no such service",
	"master.not_found":        "no such master",
	"master.no_service":       "that master does not offer that service",
	"salon.not_found":         "the salon is not set up",
	"client.invalid_phone":    "client phone is not a possible number of its country: give it in E.164 (+ and the country code), or as a number of the salon's country",
	"client.invalid_name":     "client name must be 1 to 100 characters",
	"request.invalid":         "the request is invalid",
	"error.not_found":         "not found",
	"deposit.unavailable":     "a deposit is due for this booking, and its chat has no way to pay it",
	"payment.other_booking":   "that payment was reported for another booking",
	"error.unavailable":       "the service is briefly unavailable; try again",
	"error.internal":          "internal error",
}

func message(key string) string {
	if m, ok := messages[key]; ok {
		return m
	}
	return messages["error.internal"]
}
