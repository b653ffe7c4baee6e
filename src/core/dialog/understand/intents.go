package understand

import "strings"

// rank orders intents when a message has several: "cancel my booking" is a
// cancel, not "my bookings"; "yes, at 5" is about the time (a Slot), which the
// conversation weighs itself.
var rank = map[Intent]int{
	Cancel: 10, Move: 10, Mine: 8, OtherMaster: 7, OtherDay: 7, Earlier: 6, Later: 6, Language: 5,
	Help: 4, Menu: 4, Book: 3, Yes: 2, No: 2,
	Late: 9, Price: 5, Address: 5, Hours: 5, Phone: 5, Thanks: 1,
}

// intents finds the menu words and short answers, and "any master", in the
// words left unused: at each word the longest phrase that starts there.
//
// A yes-word after a negation ("not sure", "не подтверждаю", "не
// записывайте") is a no; a message with both a yes and a no ("no, yes") has
// neither: it is asked again. Request.Pure: every word was the intent's
// (or a please).
func (s *scan) intents(r *Request) {
	mine := make([]bool, len(s.ts)) // the tokens the winning intent's phrases took
	took := map[Intent][]int{}
	for i := 0; i < len(s.ts); i++ {
		best, bestLen, anyLen := -1, 0, 0
		t := s.tok(i)
		if t == nil || t.num {
			continue
		}
		for _, k := range phraseIndex.candidates(t.w) {
			if p := phrases[k]; len(p.words) > bestLen && s.seq(i, p.words) && !s.notAsked(p, i) {
				best, bestLen = k, len(p.words)
			}
		}
		for _, a := range anyMaster {
			if len(a) > anyLen && s.seq(i, a) {
				anyLen = len(a)
			}
		}
		switch {
		case anyLen > 0 && anyLen >= bestLen:
			s.use(i, i+anyLen-1)
			if len(r.Masters) == 0 {
				r.Masters = []string{AnyMaster}
			}
			i += anyLen - 1
		case best >= 0:
			p := phrases[best]
			s.use(i, i+bestLen-1)
			from := i
			if p.intent == Yes {
				if k, ok := s.negated(i); ok {
					p.intent, from = No, k
					s.use(k, i)
				}
			}
			for k := from; k < i+bestLen; k++ {
				took[p.intent] = append(took[p.intent], k)
			}
			if p.intent == Mine || p.intent == Book {
				r.Booking = true
			}
			if r.Intent == None || rank[p.intent] > rank[r.Intent] {
				r.Intent, r.Lang = p.intent, p.lang
			}
			i += bestLen - 1
		}
	}
	if (r.Intent == Yes || r.Intent == No) && len(took[Yes]) > 0 && len(took[No]) > 0 {
		r.Intent = None // "no, yes": neither
	}
	if r.Intent == None {
		return
	}
	for _, k := range took[r.Intent] {
		mine[k] = true
	}
	r.Pure = true
	for k, t := range s.ts {
		if !mine[k] && (t.num || !polite[t.w]) {
			r.Pure = false
			return
		}
	}
}

// notAsked reports whether question phrase p at token i is not that
// question here: "my phone number is …" gives a phone, not asks the salon's;
// "вы работаете с гель-лаком?" asks about a service, not the hours ("вы
// работаете с 9?" does).
func (s *scan) notAsked(p phrase, i int) bool {
	switch p.intent {
	case Phone:
		return i > 0 && !s.ts[i-1].num && owners[s.ts[i-1].w]
	case Hours:
		k := i + len(p.words) // the word after the phrase
		return p.words[len(p.words)-1] == norm("работаете") && k+1 < len(s.ts) &&
			!s.ts[k].num && withWords[s.ts[k].w] && !s.ts[k+1].num
	}
	return false
}

// owners: "my phone number", "мой номер".
var owners = words("my", "мой", "моя", "моё", "мое")

// withWords: "работаете с гель-лаком".
var withWords = words("с", "со")

// negations turn a yes-word after them into a no ("not sure", "не
// подтверждаю").
var negations = words("не", "not", "don't", "dont", "never", "no", "нет", "ни")

// negated reports whether a negation comes just before token i (or one word
// before it: "не очень устраивает"), and returns its index.
func (s *scan) negated(i int) (int, bool) {
	for k := i - 1; k >= i-2 && k >= 0; k-- {
		if t := s.ts[k]; !t.num && negations[t.w] {
			return k, true
		}
	}
	return 0, false
}

// polite are words a short answer may carry and stay pure ("yes please").
var polite = words("please", "пожалуйста", "пожалуйсто", "плиз", "pls", "plz")

// index lists the phrases by their first word (those whose first word ends in
// "*" apart, tried at every word).
type index struct {
	first map[string][]int
	star  []int
}

func (x index) candidates(w string) []int {
	if len(x.star) == 0 {
		return x.first[w]
	}
	return append(x.first[w][:len(x.first[w]):len(x.first[w])], x.star...)
}

var phraseIndex = func() index {
	x := index{first: map[string][]int{}}
	for k, p := range phrases {
		if strings.HasSuffix(p.words[0], "*") {
			x.star = append(x.star, k)
			continue
		}
		x.first[p.words[0]] = append(x.first[p.words[0]], k)
	}
	return x
}()
