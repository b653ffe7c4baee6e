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
# database's owner may). Messages that were waiting in the outbox at the dump may have been
# sent after it: they are marked given up ("restore: …"), so that no client gets one twice
# (README: Backup and restore). The database URL reaches pg_restore and psql through libpq's
# environment (scripts/pgenv.sh), never their command lines. Then `salonbook migrate` (a
# no-op for a backup of this version) and point serve at the database.
set -euo pipefail
: "${DATABASE_URL:?scripts/restore.sh: set DATABASE_URL (an empty database to restore into)}"
# shellcheck source=scripts/pgenv.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/pgenv.sh"
pg_env_from_url "$DATABASE_URL"
file="${1:?usage: scripts/restore.sh FILE}"
[[ -r $file ]] || { echo "scripts/restore.sh: cannot read $file" >&2; exit 1; }
tables="$(psql -XAtq -c \
	"SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")"
if [[ $tables != 0 ]]; then
	echo "scripts/restore.sh: the database already has $tables tables: restore into a new, empty one (createdb)" >&2
	exit 1
fi
# pg_restore needs -d to restore into a database; the name alone is no secret, and an empty
# one lets libpq take PGDATABASE's default (the user's name).
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname="${PGDATABASE:-}" -- "$file"
psql -XAtq -v ON_ERROR_STOP=1 -c \
	"WITH g AS (UPDATE outbox SET failed = 'restore: waiting at the dump, may have been sent after it'
	           WHERE sent_at IS NULL AND failed IS NULL RETURNING 1)
	 SELECT 'restored: schema version ' || version || ', ' || (SELECT count(*) FROM bookings) || ' bookings, '
	        || (SELECT count(*) FROM g) || ' unsent outbox messages given up' FROM schema_migrations"
