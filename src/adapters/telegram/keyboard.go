package telegram

import (
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"

	"salonbook/src/core/dialog"
)

// Inline keyboard layout. One rule for every reply, so keyboards look alike:
//
//   - Choices that pick something (a service, a day, a time) come first, in the
//     order given: 4 to a row when every such label is at most 8 characters (times
//     like "10:00", short dates), otherwise 2 to a row.
//   - Choices that move around instead of picking (navigation: menu, more, days,
//     mine, other, drop) come last, in the order given, 2 to a row, so they sit
//     in the same place on every screen.
//
// Telegram documents no limit on an inline keyboard's size; the conversation
// offers at most about ten choices a reply.
const (
	shortLabel  = 8 // characters
	shortPerRow = 4
	longPerRow  = 2
	navPerRow   = 2
)

// navigation are the conversation's option ids that move around rather than pick.
var navigation = map[string]bool{
	"menu": true, "more": true, "less": true, "days": true, "mine": true, "other": true, "drop": true, "mm": true,
}

// inlineKeyboard lays choices out (see the rule above), or returns nil when none
// can be sent. A choice Telegram would refuse, with an id that is not 1 to 64
// bytes of callback_data or with an empty label, is dropped rather than losing
// the whole message, and logged by position and size only.
func inlineKeyboard(choices []dialog.Choice, log *slog.Logger) *models.InlineKeyboardMarkup {
	var picks, nav []models.InlineKeyboardButton
	perRow := shortPerRow
	for i, c := range choices {
		switch {
		case len(c.ID) == 0 || len(c.ID) > dialog.MaxChoiceIDBytes:
			log.Warn("telegram: choice dropped: callback data must be 1-64 bytes",
				slog.Int("choice", i), slog.Int("bytes", len(c.ID)))
			continue
		case strings.TrimSpace(c.Label) == "":
			log.Warn("telegram: choice dropped: empty label", slog.Int("choice", i))
			continue
		}
		b := models.InlineKeyboardButton{Text: c.Label, CallbackData: c.ID}
		if navigation[c.ID] {
			nav = append(nav, b)
			continue
		}
		if utf8.RuneCountInString(c.Label) > shortLabel {
			perRow = longPerRow
		}
		picks = append(picks, b)
	}
	rows := append(rowsOf(picks, perRow), rowsOf(nav, navPerRow)...)
	if len(rows) == 0 {
		return nil
	}
	return &models.InlineKeyboardMarkup{InlineKeyboard: rows}
}

// rowsOf cuts buttons into rows of at most n.
func rowsOf(buttons []models.InlineKeyboardButton, n int) [][]models.InlineKeyboardButton {
	var rows [][]models.InlineKeyboardButton
	for len(buttons) > 0 {
		k := min(n, len(buttons))
		rows = append(rows, buttons[:k:k])
		buttons = buttons[k:]
	}
	return rows
}

// contactKeyboard is the reply keyboard with the one "share my phone number"
// button. It replaces the inline keyboard (a message has one markup), and hides
// once pressed.
func contactKeyboard(label string) *models.ReplyKeyboardMarkup {
	return &models.ReplyKeyboardMarkup{
		Keyboard:        [][]models.KeyboardButton{{{Text: label, RequestContact: true}}},
		OneTimeKeyboard: true,
		ResizeKeyboard:  true,
	}
}
