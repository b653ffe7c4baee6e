#!/usr/bin/env bash
# scripts/backup.sh — a consistent backup of the salonbook database with pg_dump.
#
#   DATABASE_URL=postgres://… scripts/backup.sh [FILE]
#
# Writes pg_dump's custom format (compressed; pg_restore reads it, table by table if need
# be) to FILE, default backups/salonbook-<UTC time>.dump, readable by its owner only (it
# holds clients' names and phone numbers). pg_dump reads one snapshot: serve keeps running.
# The dump is checked by listing it (pg_restore --list) before it is given its name, so a
# FILE that exists is whole. Restore with scripts/restore.sh. Prints FILE.
set -euo pipefail
: "${DATABASE_URL:?scripts/backup.sh: set DATABASE_URL (the database to back up)}"
file="${1:-backups/salonbook-$(date -u +%Y%m%dT%H%M%SZ).dump}"
mkdir -p -- "$(dirname -- "$file")"
umask 077
tmp="$file.partial"
trap 'rm -f -- "$tmp"' EXIT
pg_dump --format=custom --compress=6 --file="$tmp" --dbname="$DATABASE_URL"
pg_restore --list "$tmp" >/dev/null
mv -- "$tmp" "$file"
trap - EXIT
echo "$file"
