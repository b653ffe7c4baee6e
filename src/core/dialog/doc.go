// Package dialog is the conversation a client has with the salon's bot, the same
// on every channel: an inbound event and the conversation's state give the next
// state and a list of replies.
//
// It never names a channel, renders nothing and sends nothing: a reply is text
// plus optional choices (a short id and a label), and each channel adapter draws
// it within its own limits. It books through the booking use cases and reads the
// time from the injected clock.
package dialog
