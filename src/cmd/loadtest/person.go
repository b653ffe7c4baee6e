package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"salonbook/src/adapters/telegram/telegramtest"
)

// person lets someone at a terminal be a Telegram user of the fake Bot API, so
// that a booking can be made through the fake by hand (salonbook polling it):
//
//	GET  /person/{chat}             the last messages the bot sent to the chat
//	POST /person/{chat}/say         the body is what the person writes ("/start", "haircut")
//	POST /person/{chat}/press       the body is a button's label (or its callback data)
//
// ?lang=ru sets the person's Telegram language (kept for the chat's later calls). A POST waits up to 10 s for the
// bot's answer and returns the chat as GET does. Updates are queued for
// getUpdates, so salonbook must poll (make run does when no webhook URL is set).
type person struct {
	fake   *telegramtest.Server
	nextID atomic.Int64
	wait   time.Duration
	langs  sync.Map // chat id -> the language last given with ?lang=
}

func newPerson(fake *telegramtest.Server) *person {
	p := &person{fake: fake, wait: 10 * time.Second}
	p.nextID.Store(time.Now().Unix()) // above what an earlier run of the fake confirmed
	return p
}

func (p *person) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /person/{chat}", func(w http.ResponseWriter, r *http.Request) {
		if chat, ok := p.chat(w, r); ok {
			p.transcript(w, chat)
		}
	})
	mux.HandleFunc("POST /person/{chat}/say", func(w http.ResponseWriter, r *http.Request) {
		p.act(w, r, func(chat int64, from telegramtest.User, text string) ([]byte, error) {
			return telegramtest.TextUpdate(p.nextID.Add(1), chat, from, text), nil
		})
	})
	mux.HandleFunc("POST /person/{chat}/press", func(w http.ResponseWriter, r *http.Request) {
		p.act(w, r, func(chat int64, from telegramtest.User, label string) ([]byte, error) {
			m, data, ok := p.button(chat, label)
			if !ok {
				return nil, fmt.Errorf("no button %q on the bot's messages in this chat", label)
			}
			id := p.nextID.Add(1)
			return telegramtest.CallbackUpdateOn(id, from, m, "cb"+strconv.FormatInt(id, 10), data), nil
		})
	})
}

func (p *person) chat(w http.ResponseWriter, r *http.Request) (int64, bool) {
	chat, err := strconv.ParseInt(r.PathValue("chat"), 10, 64)
	if err != nil || chat <= 0 {
		http.Error(w, "the chat is a person's positive Telegram id, e.g. /person/1001", http.StatusBadRequest)
		return 0, false
	}
	return chat, true
}

// act turns what the person did into an update, queues it and answers with the
// chat once the bot has sent something new (or after p.wait).
func (p *person) act(w http.ResponseWriter, r *http.Request, update func(chat int64, from telegramtest.User, body string) ([]byte, error)) {
	chat, ok := p.chat(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 4096))
	text := strings.TrimSpace(string(body))
	if err != nil || text == "" {
		http.Error(w, "say what the person writes, or the label of the button they press, in the body", http.StatusBadRequest)
		return
	}
	if lang := r.URL.Query().Get("lang"); lang != "" {
		p.langs.Store(chat, lang)
	}
	lang, _ := p.langs.Load(chat)
	from := telegramtest.User{ID: chat, FirstName: "Guest"}
	from.LanguageCode, _ = lang.(string)
	u, err := update(chat, from, text)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	before := len(p.fake.SentTo(chat))
	if err := p.fake.Enqueue(u); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), p.wait)
	defer cancel()
	for len(p.fake.SentTo(chat)) == before && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	time.Sleep(300 * time.Millisecond) // the rest of a step's replies
	p.transcript(w, chat)
}

// button finds label among the buttons of the bot's messages to chat, newest
// message first, by label or callback data.
func (p *person) button(chat int64, label string) (telegramtest.SentMessage, string, bool) {
	sent := p.fake.SentTo(chat)
	for i := len(sent) - 1; i >= 0; i-- {
		for _, row := range sent[i].Keyboard {
			for _, b := range row {
				if b.CallbackData != "" && (strings.EqualFold(b.Text, label) || b.CallbackData == label) {
					return sent[i], b.CallbackData, true
				}
			}
		}
	}
	return telegramtest.SentMessage{}, "", false
}

// transcript writes the last six messages sent to chat (an edit shows as the
// message's new text), each with its buttons in brackets.
func (p *person) transcript(w http.ResponseWriter, chat int64) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	sent := p.fake.SentTo(chat)
	if len(sent) == 0 {
		fmt.Fprintln(w, "(the bot has not written to this chat yet)")
		return
	}
	for _, m := range sent[max(0, len(sent)-6):] {
		how := "bot"
		if m.Method == "editMessageText" {
			how = "bot (edited)"
		}
		fmt.Fprintf(w, "%s: %s\n", how, m.Text)
		for _, row := range m.Keyboard {
			var labels []string
			for _, b := range row {
				labels = append(labels, "["+b.Text+"]")
			}
			fmt.Fprintf(w, "     %s\n", strings.Join(labels, " "))
		}
	}
}
