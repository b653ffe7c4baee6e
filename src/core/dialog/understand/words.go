package understand

import (
	"strings"
	"time"
)

// The words understood, by what they mean. Every list is normalised (norm)
// when built, so it is written here as people write.

var weekdays = func() map[string]time.Weekday {
	m := map[string]time.Weekday{}
	add := func(d time.Weekday, list ...string) {
		for _, w := range list {
			m[norm(w)] = d
		}
	}
	add(time.Monday, "monday", "mon", "понедельник", "понедельника", "пн")
	add(time.Tuesday, "tuesday", "tue", "tues", "вторник", "вторника", "вт")
	add(time.Wednesday, "wednesday", "wed", "среда", "среду", "среды", "ср")
	add(time.Thursday, "thursday", "thu", "thur", "thurs", "четверг", "четверга", "чт")
	add(time.Friday, "friday", "fri", "пятница", "пятницу", "пятницы", "пт")
	add(time.Saturday, "saturday", "sat", "суббота", "субботу", "субботы", "сб",
		"weekend", "выходных", "выходные") // the weekend: its Saturday
	add(time.Sunday, "sunday", "sun", "воскресенье", "воскресенья", "вс")
	return m
}()

var months = func() map[string]time.Month {
	m := map[string]time.Month{}
	add := func(mo time.Month, list ...string) {
		for _, w := range list {
			m[norm(w)] = mo
		}
	}
	add(time.January, "january", "jan", "январь", "января", "янв")
	add(time.February, "february", "feb", "февраль", "февраля", "фев", "февр")
	add(time.March, "march", "mar", "март", "марта", "мар")
	add(time.April, "april", "apr", "апрель", "апреля", "апр")
	add(time.May, "may", "май", "мая")
	add(time.June, "june", "jun", "июнь", "июня", "июн")
	add(time.July, "july", "jul", "июль", "июля", "июл")
	add(time.August, "august", "aug", "август", "августа", "авг")
	add(time.September, "september", "sep", "sept", "сентябрь", "сентября", "сен", "сент")
	add(time.October, "october", "oct", "октябрь", "октября", "окт")
	add(time.November, "november", "nov", "ноябрь", "ноября", "ноя", "нояб")
	add(time.December, "december", "dec", "декабрь", "декабря", "дек")
	return m
}()

// hourWords are hours said in words: "at five", "в пять", "к пяти".
var hourWords = func() map[string]int {
	m := map[string]int{}
	add := func(h int, list ...string) {
		for _, w := range list {
			m[norm(w)] = h
		}
	}
	add(1, "one", "один", "одного", "одному")
	add(2, "two", "два", "двух", "двум")
	add(3, "three", "три", "трех", "трем")
	add(4, "four", "четыре", "четырех", "четырем")
	add(5, "five", "пять", "пяти")
	add(6, "six", "шесть", "шести")
	add(7, "seven", "семь", "семи")
	add(8, "eight", "восемь", "восьми")
	add(9, "nine", "девять", "девяти")
	add(10, "ten", "десять", "десяти")
	add(11, "eleven", "одиннадцать", "одиннадцати")
	add(12, "twelve", "двенадцать", "двенадцати")
	return m
}()

// ordinals are the genitive ordinals of Russian half hours: "полшестого",
// "в половине шестого" is 5:30 ("half of the sixth hour").
var ordinals = func() map[string]int {
	m := map[string]int{}
	for i, w := range []string{"первого", "второго", "третьего", "четвертого", "пятого", "шестого", "седьмого",
		"восьмого", "девятого", "десятого", "одиннадцатого", "двенадцатого"} {
		m[norm(w)] = i + 1
	}
	return m
}()

var (
	today         = words("today", "tonight", "сегодня", "сегодняшний", "сегодня-же")
	tomorrow      = words("tomorrow", "tmrw", "tmr", "tomorow", "tommorow", "tommorrow", "завтра", "завтрашний")
	afterTomorrow = words("послезавтра", "after-tomorrow")
	nextWords     = words("next", "следующий", "следующую", "следующее", "следующей", "следующего", "след", "следующая", "следующих")
	thisWords     = words("this", "coming", "этот", "эту", "это", "этой", "этого", "ближайший", "ближайшую", "ближайшее")
	inWords       = words("in", "через")
	dayUnit       = words("day", "days", "день", "дня", "дней")
	weekUnit      = words("week", "weeks", "неделю", "недели", "недель", "неделе")

	// Said before a time: "at 5", "в 17", "к 17", "на 17:00", "около 5", "с 5".
	timePreps = words("at", "around", "about", "by", "в", "во", "к", "ко", "около", "на", "с", "со", "часам")
	afterWord = words("after", "после", "from")
	// before a time, as a limit: "before 12", "до 12"
	beforeWord = words("before", "until", "till", "до")
	// Marks a number as an hour: "17h", "5 часов", "5 o'clock".
	hourMarks = words("h", "hr", "hrs", "ч", "час", "часа", "часов", "o'clock", "oclock")
	// Ordinal suffixes after a day of the month: "12th", "12-го", "1st".
	ordSuffix = words("th", "st", "nd", "rd", "го", "е", "ое", "ого", "числа", "число")
	ofWord    = words("of")

	amWords      = words("am", "утра")
	pmWords      = words("pm")
	eveningWords = words("вечера", "evening", "вечер")
	dayTimeWords = words("дня", "afternoon")
	nightWords   = words("ночи", "night")

	// Parts of the day, when no time is named: "tomorrow evening".
	morning   = words("morning", "утром", "утро", "утра")
	afternoon = words("afternoon", "днем", "днём", "обеда", "обед", "lunchtime", "lunch")
	evening   = words("evening", "tonight", "вечером", "вечер", "вечера")

	noon     = words("noon", "midday", "полдень", "полудня")
	midnight = words("midnight", "полночь", "полуночи")
	halfRu   = words("половина", "половине", "пол", "половину")
	quarter  = words("quarter", "четверть", "четверти")
	half     = words("half")
	past     = words("past", "after")
	to       = words("to", "till", "before")
	without  = words("без")
)

// phrase is a run of words that means an intent; a word ending in "*" matches
// any word it begins ("записа*" is записаться, запишите is listed apart).
type phrase struct {
	words  []string
	intent Intent
	lang   string
}

// phrases, longest first where one contains another ("my bookings" before
// "book"), and within an intent's list, ordered as they are tried.
var phrases = func() []phrase {
	var out []phrase
	add := func(in Intent, lang string, list ...string) {
		for _, p := range list {
			var ws []string
			for _, w := range splitWords(p) {
				ws = append(ws, norm(w))
			}
			out = append(out, phrase{words: ws, intent: in, lang: lang})
		}
	}
	add(OtherMaster, "", "another master", "other master", "different master", "change master", "change the master",
		"someone else", "another stylist", "другой мастер", "другого мастера", "к другому мастеру", "другому мастеру",
		"сменить мастера", "поменять мастера")
	add(OtherDay, "", "another day", "other day", "different day", "другой день", "в другой день", "другие дни")
	add(Mine, "", "my bookings", "my booking", "my appointments", "my appointment", "my visits", "bookings",
		"appointments", "мои записи", "моя запись", "мои брони", "мою запись", "моих записей", "записи")
	add(Cancel, "", "cancel*", "call off", "отмени*", "отмена", "отказаться", "не приду")
	add(Move, "", "reschedule*", "re-schedule", "move", "postpone", "перенес*", "перенос*", "передвин*", "сдвин*")
	add(Help, "", "help", "what can you do", "how does it work", "помощь", "помоги*", "что ты умеешь", "что вы умеете",
		"как это работает", "справка")
	add(Menu, "", "menu", "main menu", "start over", "start again", "restart", "меню", "главное меню", "в начало",
		"сначала", "начать сначала", "заново")
	add(Language, "en", "english", "in english", "по-английски", "английский", "на английском")
	add(Language, "ru", "russian", "in russian", "по-русски", "русский", "на русском", "порусски")
	add(Language, "", "language", "change language", "язык", "сменить язык", "другой язык")
	add(Earlier, "", "earlier", "earlier times", "sooner", "раньше", "пораньше", "earlier days", "предыдущие дни")
	add(Later, "", "later", "later times", "more times", "позже", "попозже", "later days", "дальше", "ещё время", "еще время")
	add(Book, "", "book*", "make an appointment", "appointment", "new booking", "записа*", "запиши*", "запись",
		"хочу записаться", "бронь", "забронировать", "sign me up")
	add(Yes, "", "yes", "yep", "yeah", "yup", "sure", "ok", "okay", "confirm*", "go ahead", "book it", "that's fine",
		"да", "ага", "угу", "конечно", "подтвер*", "хорошо", "ок", "окей", "давайте", "давай", "записывайте",
		"годится", "подходит", "устраивает", "верно")
	add(Price, "", "how much", "price*", "cost*", "how long does", "how long do", "how long is", "how long will it take",
		"how long it takes", "how long would it take", "what services", "which services", "what do you offer",
		"сколько стоит", "сколько стоят", "сколько будет стоить", "сколько это стоит", "сколько это будет стоить", "стоимость", "цена", "цены", "цену", "прайс*", "почем",
		"почём", "какие услуги", "список услуг", "сколько длится", "сколько по времени", "сколько времени занимает")
	add(Address, "", "where are you", "where is the salon", "where's the salon", "where are you located", "address",
		"your address", "how do i get there", "how to get there", "location", "адрес*", "где вы", "где находитесь",
		"где вы находитесь", "где салон", "где это", "как добраться", "как вас найти")
	add(Hours, "", "opening hours", "open hours", "business hours", "hours", "are you open", "when are you open",
		"what time do you open", "what time do you close", "open", "opening times", "часы работы", "график работы",
		"режим работы", "до скольки", "со скольки", "во сколько открываетесь", "во сколько закрываетесь", "вы работаете",
		"работаете", "открыты", "когда вы работаете")
	add(Phone, "", "phone number", "your phone", "your number", "call you", "call the salon", "telephone", "ваш телефон",
		"ваш номер", "у вас телефон", "какой у вас телефон", "телефон салона", "номер салона", "позвонить")
	add(Late, "", "i'm late", "im late", "i am late", "running late", "be late", "minutes late", "mins late", "min late", "опозда*", "опазд*", "задержусь",
		"задерживаюсь")
	add(Thanks, "", "thanks", "thank you", "thx", "cheers", "спасибо", "спс", "благодарю")
	add(No, "", "да нет", "no", "nope", "no thanks", "not now", "нет", "не надо", "не нужно", "не хочу", "не подходит")
	return out
}()

// anyMaster are the words for "no preference".
var anyMaster = func() [][]string {
	var out [][]string
	for _, p := range []string{"any master", "anyone", "anybody", "any", "no preference", "whoever", "doesn't matter",
		"does not matter", "don't mind", "любой", "любой мастер", "любому", "любому мастеру", "к любому", "кто угодно",
		"кто-нибудь", "неважно", "не важно", "без разницы", "все равно", "всё равно", "кто свободен"} {
		var ws []string
		for _, w := range splitWords(p) {
			ws = append(ws, norm(w))
		}
		out = append(out, ws)
	}
	return out
}()

// stop are words that never name a service or a master on their own.
var stop = words(
	"a", "an", "the", "at", "on", "in", "for", "to", "with", "by", "me", "i", "i'd", "i'm", "my", "please", "want", "would",
	"like", "can", "could", "get", "have", "and", "or", "is", "it", "do", "be", "some", "time", "a", "hi", "hello", "hey",
	"thanks", "thank", "you", "there", "need", "let's", "lets", "book", "booking", "appointment", "visit", "session",
	"в", "во", "на", "к", "ко", "у", "с", "со", "и", "а", "или", "мне", "меня", "я", "хочу", "хотел", "хотела", "хотелось",
	"бы", "пожалуйста", "можно", "нужно", "надо", "мастер", "мастера", "мастеру", "мастером", "время", "привет",
	"здравствуйте", "добрый", "день", "спасибо", "по", "за", "от", "для", "запись", "записаться", "пожалуйсто", "плиз",
	"master", "stylist", "service", "услуга", "услугу", "процедура", "процедуру", "it's", "its", "that", "this", "of",
)

// splitWords splits a phrase of the tables at spaces; a trailing "*" stays.
func splitWords(s string) []string { return strings.Fields(s) }

// fillers are phrases consumed without meaning, so that their words are not
// read as something else ("any time" is not "any master").
var fillers = func() [][]string {
	var out [][]string
	for _, p := range []string{"any time", "anytime", "any day", "любое время", "в любое время", "любой день", "в любой день",
		"когда угодно", "добрый день", "good afternoon", "good evening", "good morning", "доброе утро", "добрый вечер"} {
		var ws []string
		for _, w := range splitWords(p) {
			ws = append(ws, norm(w))
		}
		out = append(out, ws)
	}
	return out
}()
