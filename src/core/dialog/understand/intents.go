package understand

import "strings"

// rank orders intents when a message has several: "cancel my booking" is a
// cancel, not "my bookings"; "yes, at 5" is about the time (a Slot), which the
// conversation weighs itself.
var rank = map[Intent]int{
	Cancel: 10, Move: 10, Mine: 8, OtherMaster: 7, OtherDay: 7, Earlier: 6, Later: 6, Language: 5,
	Help: 4, Menu: 4, Book: 3, Yes: 2, No: 2,
}

// intents finds the menu words and short answers, and "any master", in the
// words left unused: at each word the longest phrase that starts there.
func (s *scan) intents(r *Request) {
	for i := 0; i < len(s.ts); i++ {
		best, bestLen, anyLen := -1, 0, 0
		t := s.tok(i)
		if t == nil || t.num {
			continue
		}
		for _, k := range phraseIndex.candidates(t.w) {
			if p := phrases[k]; len(p.words) > bestLen && s.seq(i, p.words) {
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
			if p.intent == Mine || p.intent == Book {
				r.Booking = true
			}
			if r.Intent == None || rank[p.intent] > rank[r.Intent] {
				r.Intent, r.Lang = p.intent, p.lang
			}
			i += bestLen - 1
		}
	}
}

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
