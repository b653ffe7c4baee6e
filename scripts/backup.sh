#!/usr/bin/env bash
# scripts/backup.sh — a consistent backup of the salonbook database with pg_dump.
#
#   DATABASE_URL=postgres://… scripts/backup.sh [FILE]
#
# Writes pg_dump's custom format (compressed; pg_restore reads it, table by table if need
# be) to FILE, default backups/salonbook-<UTC time>.dump (git-ignored; better a directory
# off the database's host), readable by its owner only (it holds clients' names and phone
# numbers). pg_dump reads one snapshot: serve keeps running. The dump is checked by listing
# it (pg_restore --list) before it is given its name, so a FILE that exists is whole; an
# existing FILE is never overwritten. The database URL reaches pg_dump through libpq's
# environment (scripts/pgenv.sh), never its command line. Restore with scripts/restore.sh.
# Prints FILE.
set -euo pipefail
: "${DATABASE_URL:?scripts/backup.sh: set DATABASE_URL (the database to back up)}"
# shellcheck source=scripts/pgenv.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/pgenv.sh"
pg_env_from_url "$DATABASE_URL"
file="${1:-backups/salonbook-$(date -u +%Y%m%dT%H%M%SZ).dump}"
if [[ -e $file ]]; then
	echo "scripts/backup.sh: $file exists: name another file (a dump is never overwritten)" >&2
	exit 1
fi
mkdir -p -- "$(dirname -- "$file")"
umask 077
tmp="$file.partial.$$"
trap 'rm -f -- "$tmp"' EXIT
pg_dump --format=custom --compress=6 --file="$tmp"
pg_restore --list "$tmp" >/dev/null
# A hard link fails if FILE appeared meanwhile: no dump is ever replaced.
ln -- "$tmp" "$file"
echo "$file"
