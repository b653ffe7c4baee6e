// Package salonfile reads the salon file, the one YAML file in which an owner
// describes the salon, and turns it into core types. It checks everything it can
// without a database: an invalid file is rejected as a whole, with every problem
// named by its line and field path, so that `salonbook apply` changes nothing.
// It never touches storage, a clock or the network; applying the result is the
// caller's job.
//
// # Shape
//
//	salon:
//	  id: demo                        # required; ^[a-z0-9][a-z0-9_-]{0,31}$
//	  name: Studio Anna               # required
//	  timezone: Europe/Berlin         # required; an IANA zone name, not "Local"
//	  locales: [en, ru]               # required, non-empty, unique; "en", "ru", "pt-BR";
//	                                  # the first is the default language
//	  phone: "+49 30 1234567"         # optional, shown to clients; a number that can be dialled
//	  address: "Torstraße 1, Berlin"  # optional
//	  country: DE                     # optional; ISO 3166-1 alpha-2: phone numbers typed
//	                                  # without a country code are read as this
//	                                  # country's; absent: clients must type +
//	  privacy_url: https://example.com/privacy  # optional; an https URL, linked
//	                                  # before a client's name and phone are asked
//	policy:                           # optional, as is each field in it
//	  slot_step: 15m                  # default 15m; at least 5m, whole minutes
//	  min_notice: 1h                  # default 1h; at least 0
//	  horizon: 60d                    # default 60d; from 1d to 366d
//	  hold: 10m                       # default 10m; from 1m to 24h
//	  cancel_cutoff: 12h              # default 12h; at least 0
//	  max_upcoming: 3                 # default 3; from 1 to 100: upcoming bookings one
//	                                  # client (phone), or one chat, may make; the
//	                                  # owner's API bookings are not capped
//	  reminders: [24h, 2h]            # default [24h, 2h]; [] is off; each from 15m to
//	                                  # 7d before the start, an exact duration (across
//	                                  # a DST change 24h is not the same wall time);
//	                                  # a reminder already due when the booking is
//	                                  # made is not sent
//	  waitlist_offer: 15m             # default 15m; from 1m to 24h, whole minutes: how
//	                                  # long a freed time offered to a wait-listed
//	                                  # client is held for them
//	  staff_summary: "08:00"          # default off; the local time, 00:00 to 12:00, each
//	                                  # master with a staff chat gets the day's bookings;
//	                                  # on (or true) is 08:00; off, false, null or absent
//	                                  # for none (an upgraded salon sends nothing new)
//	  deposit_when: after_no_show     # default never; always, after_no_show (only clients
//	                                  # with a no-show in the last year) or never: who is
//	                                  # asked their service's deposit on confirming a time
//	  payment_window: 15m             # default 15m; from 1m to 23h, whole minutes: how long
//	                                  # a booking awaiting its deposit holds its time
//	  deposit_refund:
//	    cutoff: 48h                   # default cancel_cutoff, and at least that: a client
//	                                  # who cancels at least this long before the start
//	                                  # gets the deposit back, later it is kept; the
//	                                  # salon's cancel always refunds, a no-show keeps it
//	  ads_phone_consent: false        # default false; true only when the clients' consent
//	                                  # covers it: a booking from an ad click reported to
//	                                  # Meta (META_PIXEL_ID) carries a SHA-256 hash of the
//	                                  # client's phone number, which Meta matches better
//	services:                         # required, at least one
//	  - id: haircut                   # required; same form as salon.id, unique
//	    name: {en: Haircut, ru: Стрижка}  # required; keys are salon locales and the
//	                                  # first salon locale must be present
//	    duration: 45m                 # required; at least 5m, whole minutes
//	    price: "35.00"                # required; decimal, at most 2 decimals, >= 0;
//	                                  # read from its text, quoted or not
//	    currency: EUR                 # required; 3 upper-case letters (ISO 4217).
//	                                  # Clients see prices with the currency's sign
//	                                  # where it has one (EUR €, USD $, GBP £, RUB ₽…)
//	                                  # placed as their language writes it ("€35",
//	                                  # "€18.50" / "35 €", "18,50 €"), no decimals for a
//	                                  # whole amount; another currency by its code
//	                                  # ("35 CHF"); durations as "45 min", "1 h 30 min"
//	                                  # / "45 мин", "1 ч 30 мин"
//	    buffer_before: 0m             # optional, default 0; whole minutes, >= 0
//	    buffer_after: 15m             # optional, default 0; whole minutes, >= 0
//	    deposit: "10.00"              # optional: an amount in the service's currency, more
//	                                  # than 0 and at most the price, or a share of the
//	                                  # price ("20%", 1% to 100%, rounded half up to a
//	                                  # cent); asked as policy.deposit_when says; only in
//	                                  # currencies with cents
//	    aliases: [cut, подстричься]   # optional, at most 20: other words clients type
//	                                  # for it, in any language; each at most 60
//	                                  # characters, listed once, and not a word the
//	                                  # chat reads as something else (a menu word, a
//	                                  # day, a time, "any master")
//	masters:                          # required, at least one
//	  - id: anna                      # required; same form as salon.id, unique
//	    name: Anna                    # required: one name for every language, or one
//	                                  # per locale as for services ({en: Anna, ru: Анна};
//	                                  # the first salon locale must be present): chats,
//	                                  # reminders, wait-list offers and staff notices
//	                                  # show the reader's language's name, else the
//	                                  # first locale's; every name is understood typed
//	    services: [haircut]           # required, non-empty; ids from services
//	    hours:                        # required, at least one range
//	      mon: ["09:00-13:00", "14:00-19:00"]
//	      sat: ["20:00-02:00"]        # a range whose end is not after its start
//	                                  # crosses midnight into the next day
//	    days_off: ["2027-01-01"]      # optional; YYYY-MM-DD; a day off cancels the
//	                                  # shifts that start on it
//	    calendar: anna@example.com    # optional Google Calendar id
//	    telegram_chat_id: 12345       # optional Telegram chat for staff notices
//	    aliases: [Анна, Аня]          # optional: other names clients type, as for
//	                                  # services (the name is also understood
//	                                  # transliterated: "Anna" in "к Анне")
//	staff:                            # optional: who may log in to the desk (/admin)
//	  - login: olga                   # required; unique; ^[a-z0-9][a-z0-9._-]{0,63}$
//	    role: owner                   # required; owner (sees and changes everything)
//	                                  # or master (their own bookings; no phones)
//	  - login: anna
//	    role: master
//	    master: anna                  # required for a master, absent for an owner:
//	                                  # the id of the master this account is
//
// Passwords are never in the file: `salonbook passwd LOGIN` sets one (stored as
// an argon2id hash). Applying a file without an account that the database has
// deletes that account and ends its sessions.
//
// Durations are Go durations ("90m", "1h30m") or a whole number of days with a "d"
// suffix, optionally followed by a Go duration ("60d", "1d12h"). Weekdays are mon,
// tue, wed, thu, fri, sat and sun. Ranges are "HH:MM-HH:MM" (24:00 may end a
// range). The ranges of one master must not overlap anywhere in the week,
// including a range that crosses midnight into the next weekday (sat
// "20:00-02:00" overlaps sun "01:00-05:00", and sun "22:00-02:00" overlaps mon
// "01:00-03:00"). Prices are parsed from their text, never through a float.
//
// Unknown fields, repeated fields and YAML merge keys ("<<") are rejected;
// anchors and aliases may be used to share values. Only one YAML document is read.
package salonfile
