package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// person lets someone at a terminal be a client of a fake chat platform, so
// that a booking can be made through the fake by hand (salonbook talking to
// it):
//
//	GET  /person/{chat}             the last messages the bot sent to the chat
//	POST /person/{chat}/say         the body is what the person writes ("/start", "haircut")
//	POST /person/{chat}/press       the body is a button's label (or its id)
//
// ?lang=ru sets the person's language (kept for the chat's later calls; only
// Telegram tells it to the bot). A POST waits up to 10 s for the bot's answer
// and returns the chat as GET does.
type person struct {
	fake  personFake
	wait  time.Duration
	langs sync.Map // chat -> the language last given with ?lang=
}

// personFake is what person needs of a fake platform.
type personFake interface {
	// say delivers text written by the person in chat.
	say(ctx context.Context, chat, lang, text string) error
	// press delivers a press of the button labelled label (or with that id) on
	// the bot's newest message that has it; errNoButton when none has.
	press(ctx context.Context, chat, lang, label string) error
	// sent is what the bot sent to chat, oldest first.
	sent(chat string) []personMessage
}

// personMessage is one message of the bot as the person sees it.
type personMessage struct {
	edited  bool
	text    string
	buttons [][]string // rows of labels
}

type noButtonError struct{ label string }

func (e noButtonError) Error() string {
	return fmt.Sprintf("no button %q on the bot's messages in this chat", e.label)
}

// chatID is a person's chat: digits (Telegram's positive user id, WhatsApp's wa_id).
var chatID = regexp.MustCompile(`^[1-9][0-9]{0,19}$`)

func newPerson(fake personFake) *person { return &person{fake: fake, wait: 10 * time.Second} }

func (p *person) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /person/{chat}", func(w http.ResponseWriter, r *http.Request) {
		if chat, ok := p.chat(w, r); ok {
			p.transcript(w, chat)
		}
	})
	mux.HandleFunc("POST /person/{chat}/say", func(w http.ResponseWriter, r *http.Request) {
		p.act(w, r, p.fake.say)
	})
	mux.HandleFunc("POST /person/{chat}/press", func(w http.ResponseWriter, r *http.Request) {
		p.act(w, r, p.fake.press)
	})
}

func (p *person) chat(w http.ResponseWriter, r *http.Request) (string, bool) {
	chat := r.PathValue("chat")
	if !chatID.MatchString(chat) {
		http.Error(w, "the chat is the person's id, digits only, e.g. /person/1001", http.StatusBadRequest)
		return "", false
	}
	return chat, true
}

// act does what the person did and answers with the chat once the bot has
// sent something new (or after p.wait).
func (p *person) act(w http.ResponseWriter, r *http.Request, do func(ctx context.Context, chat, lang, body string) error) {
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
	l, _ := lang.(string)
	before := len(p.fake.sent(chat))
	if err := do(r.Context(), chat, l, text); err != nil {
		status := http.StatusBadGateway
		if _, ok := err.(noButtonError); ok {
			status = http.StatusNotFound
		}
		http.Error(w, err.Error(), status)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), p.wait)
	defer cancel()
	for len(p.fake.sent(chat)) == before && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	time.Sleep(300 * time.Millisecond) // the rest of a step's replies
	p.transcript(w, chat)
}

// transcript writes the last six messages sent to chat, each with its buttons
// in brackets.
func (p *person) transcript(w http.ResponseWriter, chat string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	sent := p.fake.sent(chat)
	if len(sent) == 0 {
		fmt.Fprintln(w, "(the bot has not written to this chat yet)")
		return
	}
	for _, m := range sent[max(0, len(sent)-6):] {
		how := "bot"
		if m.edited {
			how = "bot (edited)"
		}
		fmt.Fprintf(w, "%s: %s\n", how, m.text)
		for _, row := range m.buttons {
			fmt.Fprintf(w, "     [%s]\n", strings.Join(row, "] ["))
		}
	}
}
