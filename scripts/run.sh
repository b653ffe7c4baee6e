#!/usr/bin/env bash
# scripts/run.sh — what `make run` does: a database (private cluster when none is
# reachable), migrations, the demo salon, a local API token, then `salonbook serve`.
set -euo pipefail
ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"

DATABASE_URL="$(scripts/db.sh url)"
export DATABASE_URL
export HTTP_ADDR="${HTTP_ADDR:-127.0.0.1:8080}"
# Where people reach it: the booked message's "Add to calendar" link (and Stripe's return) need it.
export PUBLIC_URL="${PUBLIC_URL:-http://$HTTP_ADDR}"
SALON_FILE="${SALON_FILE:-scripts/demo-salon.yaml}"

# A bot token without a public URL: long polling, no webhook needed (set before
# migrate: every subcommand checks the whole configuration).
if [[ -n "${TELEGRAM_BOT_TOKEN:-}${TELEGRAM_BOT_TOKEN_FILE:-}" && -z "${TELEGRAM_WEBHOOK_URL:-}" ]]; then
	export TELEGRAM_MODE="${TELEGRAM_MODE:-polling}"
fi

bin/salonbook migrate
applied="$(bin/salonbook apply "$SALON_FILE")"
echo "$applied"
# Serve the salon just applied, whatever else the database holds (load runs, other files).
export SALONBOOK_SALON="${SALONBOOK_SALON:-$(sed -n 's/^salon \([^ ]*\) applied.*/\1/p' <<<"$applied")}"

# A token of its own for local use, kept in .data/ (git-ignored), unless one is given.
if [[ -z "${SALONBOOK_API_TOKEN:-}" && -z "${SALONBOOK_API_TOKEN_FILE:-}" ]]; then
	mkdir -p .data
	if [[ ! -s .data/api-token ]]; then
		(umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > .data/api-token)
	fi
	export SALONBOOK_API_TOKEN_FILE="$ROOT/.data/api-token"
fi

# The desk's demo owner ("owner" in the demo salon file) gets a new random
# password at every start, printed below; never a fixed one.
desk_line="  desk:    the salon file has no staff login \"owner\"; set one with: bin/salonbook passwd LOGIN"
desk_password="$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20)"
if bin/salonbook passwd owner <<<"$desk_password" >/dev/null 2>&1; then
	desk_line="  desk:    open http://$HTTP_ADDR/admin and log in as  owner  with password  $desk_password"
fi
unset desk_password

cat >&2 <<MSG

salonbook is starting on http://$HTTP_ADDR  (Ctrl-C stops it)
  chat:    open http://$HTTP_ADDR/chat in a browser and book as a client would
$desk_line
  health:  curl http://$HTTP_ADDR/readyz
  try:     curl -H "Authorization: Bearer \$(cat ${SALONBOOK_API_TOKEN_FILE:-<your token file>})" \\
             "http://$HTTP_ADDR/api/v1/slots?service=haircut&master=any&days=3"

MSG
# Not exec: after Ctrl-C, say what is still running.
trap '' INT
status=0
(trap - INT; exec bin/salonbook serve) || status=$?
if [[ $status -eq 130 ]]; then
	status=0 # Ctrl-C: a normal stop
elif [[ $status -ne 0 ]]; then
	echo "salonbook serve failed (exit status $status)" >&2
fi
if scripts/db.sh status >/dev/null 2>&1; then
	cat >&2 <<MSG

salonbook stopped. Its private PostgreSQL (under .data/) is still running, with the demo data;
the next \`make run\` reuses it. Stop it with:  make db-stop
MSG
fi
exit "$status"
