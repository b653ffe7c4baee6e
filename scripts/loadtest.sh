#!/usr/bin/env bash
# scripts/loadtest.sh — run the Telegram load harness (salonbook loadtest) twice:
# with the fake Bot API's limits raised (the pipeline itself) and with Telegram's
# limits (compliance). Output goes to the terminal and to .data/loadtest-<mode>-<time>.txt.
#
#   scripts/loadtest.sh                      both modes, LOADTEST_CLIENTS (default 1000)
#   LOADTEST_CLIENTS=300 scripts/loadtest.sh raised
#   scripts/loadtest.sh kill                 limits raised, the server run as its own process,
#                                            SIGKILLed mid-run (LOADTEST_KILL_AT acks, default
#                                            5 per client) and started again (LOADTEST_KILL=1)
#
# A kill run counts no earlier than the outbox lease (90 s) plus 10 s after the SIGKILL, so
# that replies the killed sender had leased and are sent again are seen: it takes minutes.
#
# Other knobs: LOADTEST_PARALLEL (200), LOADTEST_TIMEOUT (4m; telegram 8m; kill 10m), LOADTEST_REPLY_TIMEOUT (90s; kill 6m),
# TELEGRAM_WORKERS (4, as serve), LOADTEST_SEED (1), LOADTEST_SERVER (inprocess; process runs
# the server as a process of its own, as kill does, without the kill). DATABASE_URL comes from
# scripts/db.sh url.
#
# Exit status: every mode asked for runs; non-zero when any failed (lost or dead-lettered
# updates, double bookings, clients booked twice, stuck clients, and replies sent twice
# except across the kill), or could not run.
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
mkdir -p .data
DATABASE_URL="$(scripts/db.sh url)"
export DATABASE_URL
modes=("$@")
[[ ${#modes[@]} -gt 0 ]] || modes=(raised telegram)
go build -o .data/salonbook-loadtest ./src/cmd/salonbook
failed=()
for mode in "${modes[@]}"; do
	out=".data/loadtest-${mode}-$(date -u +%Y%m%dT%H%M%SZ).txt"
	echo "== LOADTEST_LIMITS=$mode -> $out" >&2
	case "$mode" in
	kill) LOADTEST_LIMITS=raised LOADTEST_KILL=1 .data/salonbook-loadtest loadtest 2>&1 | tee "$out" || failed+=("$mode") ;;
	*) LOADTEST_LIMITS="$mode" .data/salonbook-loadtest loadtest 2>&1 | tee "$out" || failed+=("$mode") ;;
	esac
done
if [[ ${#failed[@]} -gt 0 ]]; then
	echo "== loadtest FAILED: ${failed[*]}" >&2
	exit 1
fi
