// Package understand reads what a client types to a salon, in English or
// Russian, into what the conversation can act on: a menu word ("book", "my
// bookings", "отменить"), a service and a master from the salon's catalog (by
// any of their names and the salon file's aliases, in any grammatical case:
// "стрижку к Анне"), a day ("tomorrow", "next Tuesday", "12.12", "в пятницу",
// "12 декабря") and a time ("5pm", "17.30", "at 5", "в 5 вечера", "к 17",
// "в полшестого").
//
// It is deterministic and pure: no I/O, no clock (now comes in Context), no
// external service. It never decides what to book: it reports what the words
// say, ambiguities included (two services matched, an hour that may be morning
// or evening), and the conversation checks that against real free times.
package understand
