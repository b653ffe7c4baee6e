#!/usr/bin/env bash
# scripts/restore.sh — restore a backup made by scripts/backup.sh into an empty database.
#
#   createdb salonbook_restored
#   DATABASE_URL=postgres://…/salonbook_restored scripts/restore.sh FILE
#
# Refuses a database that has tables already (restore never merges into a live one). Runs
# in one transaction and stops at the first error, so the database is either whole or left
# empty. Objects are owned by the user of DATABASE_URL (--no-owner --no-privileges), which
# must be allowed to create the btree_gist extension (trusted since PostgreSQL 13: the
# database's owner may). Then `salonbook migrate` (a no-op for a backup of this version)
# and point serve at the database.
set -euo pipefail
: "${DATABASE_URL:?scripts/restore.sh: set DATABASE_URL (an empty database to restore into)}"
file="${1:?usage: scripts/restore.sh FILE}"
[[ -r $file ]] || { echo "scripts/restore.sh: cannot read $file" >&2; exit 1; }
tables="$(psql -XAtq --dbname="$DATABASE_URL" -c \
	"SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")"
if [[ $tables != 0 ]]; then
	echo "scripts/restore.sh: the database already has $tables tables: restore into a new, empty one (createdb)" >&2
	exit 1
fi
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname="$DATABASE_URL" -- "$file"
psql -XAtq --dbname="$DATABASE_URL" -c \
	"SELECT 'restored: schema version ' || version || ', ' || (SELECT count(*) FROM bookings) || ' bookings' FROM schema_migrations"
