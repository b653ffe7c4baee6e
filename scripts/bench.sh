#!/usr/bin/env bash
# scripts/bench.sh — what `make bench` runs, on this machine, in one go:
#   1. slot search, pure (src/core/availability): 14 days, 20 masters, 10,000 bookings;
#   2. slot search through the booking service and the real store, and over HTTP (p50/p99);
#   3. bookings committed per second by 8 concurrent writers, then pgbench inserting into
#      the same table with 8 clients for the same time, and the ratio of the two.
# Figures go to stdout and to .data/bench-<time>.txt. Close other heavy work first:
# the machine has 2 cores and the numbers move with its load.
set -euo pipefail
ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
url="$(scripts/db.sh url)"
export DATABASE_URL="$url"
mkdir -p .data
out=".data/bench-$(date -u +%Y%m%dT%H%M%SZ).txt"
{
	echo "# $(date -u) $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
	go test -run '^$' -bench 'Slots' -benchmem -count 3 ./src/core/availability/
	go test -run '^$' -bench 'Slots' -benchtime 300x -count 3 ./src/adapters/postgres/ ./src/adapters/web/
	go test -run '^$' -bench 'BookingThroughput' -benchtime "${BOOKINGS:-4000}x" -count 3 ./src/adapters/postgres/
} 2>&1 | tee "$out"
echo "saved in $out" >&2
