#!/usr/bin/env bash
# scripts/db.sh — give salonbook a PostgreSQL database, whatever the machine.
#
#   scripts/db.sh url     print one usable DATABASE_URL on stdout (chatter on stderr):
#                         $DATABASE_URL unchanged if it is set and reachable, else the
#                         URL of a private cluster under <repo>/.data (started if needed)
#   scripts/db.sh start   create/start the private cluster (idempotent)
#   scripts/db.sh stop    stop the private cluster (pg_ctl stop -m fast)
#   scripts/db.sh status  report on the private cluster (exit 0 running, 3 not running)
#
# The private cluster listens on 127.0.0.1:${SALONBOOK_PG_PORT:-54329} and on a unix
# socket in .data/postgres/run, with trust auth for local and 127.0.0.1 connections only.
# Server binaries come from `pg_config --bindir`, else the newest
# /usr/lib/postgresql/*/bin; when they are missing and we are root, the Debian
# `postgresql` package is installed. PostgreSQL refuses to run as root, so as root the
# server runs as the `postgres` system user.
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd -- "$SCRIPT_DIR/.." && pwd -P)"
DATA_DIR="$ROOT/.data"
PG_ROOT="$DATA_DIR/postgres"      # owned by the server user
PGDATA_DIR="$PG_ROOT/data"        # the cluster itself (mode 0700)
SOCK_DIR="$PG_ROOT/run"           # unix socket directory
LOG_FILE="$PG_ROOT/server.log"
INIT_MARKER="$PG_ROOT/initialized"
LOCK_FILE="$DATA_DIR/postgres.lock"
PORT="${SALONBOOK_PG_PORT:-54329}"
PG_USER=postgres                  # system user that runs the server when we are root
START_TIMEOUT=30

BINDIR=""

log() { printf 'db.sh: %s\n' "$*" >&2; }
die() { printf 'db.sh: error: %s\n' "$*" >&2; exit 1; }

usage() {
	cat >&2 <<'EOF'
usage: scripts/db.sh url|start|stop|status
  url     print a usable DATABASE_URL (stdout); start the private cluster if needed
  start   start (creating if needed) the private PostgreSQL cluster under .data/
  stop    stop the private cluster
  status  show whether the private cluster is running
env: DATABASE_URL (used when reachable), SALONBOOK_PG_PORT (default 54329)
EOF
}

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# Hide passwords: scheme://user:secret@host -> scheme://user:***@host, password=... -> ***
redact() {
	printf '%s' "$1" | sed -E \
		-e 's#^([A-Za-z][A-Za-z0-9+.-]*://[^:/@]*):.*@#\1:***@#' \
		-e 's#(password=)[^[:space:]&]*#\1***#g'
}

private_url() { printf 'postgres://postgres@127.0.0.1:%s/postgres?sslmode=disable' "$PORT"; }

# Run a command as the server user (ourselves unless root). fd 9 (the lock) is closed
# so the postmaster does not inherit it, and we cd / so an unreadable cwd is harmless.
as_pg() {
	if is_root; then
		if command -v runuser >/dev/null 2>&1; then
			(cd / && runuser -u "$PG_USER" -- "$@") 9>&-
		else
			local cmd
			cmd="$(printf '%q ' "$@")"
			(cd / && su "$PG_USER" -s /bin/sh -c "$cmd") 9>&-
		fi
	else
		"$@" 9>&-
	fi
}

# ---- locating binaries -------------------------------------------------------------

is_server_bindir() {
	[[ -n "$1" && -x "$1/initdb" && -x "$1/pg_ctl" && -x "$1/postgres" ]]
}

find_server_bindir() {
	local d ver cands=()
	# A cluster must be run by the major version that created it.
	if [[ -r "$PGDATA_DIR/PG_VERSION" ]]; then
		ver="$(tr -d '[:space:]' <"$PGDATA_DIR/PG_VERSION" 2>/dev/null || true)"
		if [[ -n "$ver" ]] && is_server_bindir "/usr/lib/postgresql/$ver/bin"; then
			printf '%s\n' "/usr/lib/postgresql/$ver/bin"
			return 0
		fi
	fi
	if command -v pg_config >/dev/null 2>&1 && d="$(pg_config --bindir 2>/dev/null)" \
		&& is_server_bindir "$d"; then
		printf '%s\n' "$d"
		return 0
	fi
	shopt -s nullglob
	cands=(/usr/lib/postgresql/*/bin)
	shopt -u nullglob
	if ((${#cands[@]} > 0)); then
		while IFS= read -r d; do
			if is_server_bindir "$d"; then
				printf '%s\n' "$d"
				return 0
			fi
		done < <(printf '%s\n' "${cands[@]}" | sort -rV)
	fi
	if d="$(command -v initdb 2>/dev/null)"; then
		d="$(dirname -- "$(readlink -f -- "$d")")"
		if is_server_bindir "$d"; then
			printf '%s\n' "$d"
			return 0
		fi
	fi
	return 1
}

install_postgresql() {
	command -v apt-get >/dev/null 2>&1 \
		|| die "PostgreSQL server binaries not found and apt-get is unavailable; install PostgreSQL (initdb, pg_ctl) or set DATABASE_URL"
	log "PostgreSQL server binaries not found; installing the Debian 'postgresql' package"
	apt-get update >&2 || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2 \
		|| die "apt-get install postgresql failed"
}

# need_server_bindir [noinstall]
need_server_bindir() {
	[[ -n "$BINDIR" ]] && return 0
	if BINDIR="$(find_server_bindir)"; then
		return 0
	fi
	if [[ "${1:-}" == noinstall ]]; then
		die "PostgreSQL server binaries (pg_ctl) not found; cannot manage the cluster in $PGDATA_DIR"
	fi
	if ! is_root; then
		die "PostgreSQL server binaries (initdb, pg_ctl) not found. Install them, e.g. 'sudo apt-get install postgresql' (Debian/Ubuntu), re-run as root to have this script install them, or set DATABASE_URL to a reachable server."
	fi
	install_postgresql
	BINDIR="$(find_server_bindir)" \
		|| die "installed 'postgresql' but still cannot find initdb/pg_ctl (looked at pg_config --bindir and /usr/lib/postgresql/*/bin)"
}

# Client tool (pg_isready/psql): server bindir first, then PATH, then any Debian bindir.
find_client() {
	local name="$1" d cands=()
	if [[ -n "$BINDIR" && -x "$BINDIR/$name" ]]; then
		printf '%s\n' "$BINDIR/$name"
		return 0
	fi
	if d="$(command -v "$name" 2>/dev/null)"; then
		printf '%s\n' "$d"
		return 0
	fi
	shopt -s nullglob
	cands=(/usr/lib/postgresql/*/bin/"$name")
	shopt -u nullglob
	if ((${#cands[@]} > 0)); then
		printf '%s\n' "${cands[@]}" | sort -rV | head -n 1
		return 0
	fi
	return 1
}

# ---- DATABASE_URL reachability ----------------------------------------------------

tcp_open() { # host port
	# shellcheck disable=SC2016 # $1/$2 are expanded by the inner bash
	timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

url_reachable() {
	local url="$1" tool hostport host port
	if tool="$(find_client pg_isready)"; then
		timeout 8 "$tool" -q -t 5 -d "$url" >/dev/null 2>&1
		return
	fi
	if tool="$(find_client psql)"; then
		PGCONNECT_TIMEOUT=5 timeout 8 "$tool" "$url" -X -q -t -c 'select 1' >/dev/null 2>&1
		return
	fi
	# No client tools at all: best-effort TCP probe of postgres://[userinfo@]host[:port]/...
	if [[ "$url" =~ ^postgres(ql)?://([^/?]*@)?([^/?@]*) ]]; then
		hostport="${BASH_REMATCH[3]}"
		if [[ "$hostport" =~ ^\[(.*)\](:([0-9]+))?$ ]]; then
			host="${BASH_REMATCH[1]}" port="${BASH_REMATCH[3]:-5432}"
		else
			host="${hostport%%:*}" port="${hostport#*:}"
			[[ "$hostport" == *:* ]] || port=5432
		fi
		[[ -n "$host" && "$host" != *,* ]] || return 1
		log "no pg_isready/psql found; probing $host:$port over TCP"
		tcp_open "$host" "$port"
		return
	fi
	return 1
}

# ---- the private cluster ----------------------------------------------------------

check_port() {
	if ! [[ "$PORT" =~ ^[0-9]{1,5}$ ]] || ((10#$PORT < 1 || 10#$PORT > 65535)); then
		die "SALONBOOK_PG_PORT must be a TCP port number, got '$PORT'"
	fi
	PORT=$((10#$PORT))
}

cluster_exists() { [[ -f "$INIT_MARKER" && -d "$PGDATA_DIR" ]]; }

ensure_pg_user() {
	is_root || return 0
	getent passwd "$PG_USER" >/dev/null && return 0
	log "creating system user '$PG_USER'"
	local grp=(--user-group)
	getent group "$PG_USER" >/dev/null && grp=(--gid "$PG_USER")
	useradd --system "${grp[@]}" --no-create-home --home-dir /var/lib/postgresql \
		--shell /bin/sh --comment 'PostgreSQL administrator' "$PG_USER" \
		|| die "could not create the '$PG_USER' system user"
}

# As root: the server user must be able to reach $PG_ROOT through every parent directory.
ensure_traversable() {
	is_root || return 0
	as_pg test -x "$PG_ROOT" && return 0
	local d="" part
	local -a parts
	IFS=/ read -r -a parts <<<"${PG_ROOT#/}"
	for part in "${parts[@]}"; do
		d="$d/$part"
		as_pg test -x "$d" && continue
		if command -v setfacl >/dev/null 2>&1 && setfacl -m "u:$PG_USER:x" "$d" 2>/dev/null \
			&& as_pg test -x "$d"; then
			log "note: granted '$PG_USER' search (x) permission on $d (ACL) so the server can reach .data"
			continue
		fi
		chmod o+x "$d" || true
		if as_pg test -x "$d"; then
			log "note: added o+x on $d so the '$PG_USER' user can reach .data"
		else
			die "user '$PG_USER' cannot traverse $d; make it searchable (e.g. chmod o+x '$d') or set DATABASE_URL"
		fi
	done
}

prepare_dirs() {
	if ! is_root && [[ -d "$PG_ROOT" && ! -O "$PG_ROOT" ]]; then
		die "$PG_ROOT belongs to $(stat -c %U "$PG_ROOT") (created by a root run?); run this as root, or remove it with 'scripts/db.sh stop' as root then 'rm -rf $PG_ROOT'"
	fi
	mkdir -p "$DATA_DIR" "$PG_ROOT" "$SOCK_DIR"
	chmod 0755 "$PG_ROOT" "$SOCK_DIR"
	if is_root; then
		ensure_pg_user
		local owner
		owner="$(stat -c %U "$PG_ROOT")"
		if [[ "$owner" != "$PG_USER" ]]; then
			chown -R "$PG_USER:" "$PG_ROOT"
		fi
		chown "$PG_USER:" "$SOCK_DIR"
		ensure_traversable
	fi
}

acquire_lock() {
	mkdir -p "$DATA_DIR"
	command -v flock >/dev/null 2>&1 || return 0
	if [[ -e "$LOCK_FILE" && ! -w "$LOCK_FILE" ]] || [[ ! -e "$LOCK_FILE" && ! -w "$DATA_DIR" ]]; then
		die "cannot write $LOCK_FILE (is $DATA_DIR owned by another user, e.g. from a root run?); run as that user or remove $DATA_DIR"
	fi
	exec 9>>"$LOCK_FILE"
	flock -w 120 9 || die "timed out waiting for the lock $LOCK_FILE"
}

conf_quote() { printf "'%s'" "${1//\'/\'\'}"; }

# Regenerated before every start so the port/socket follow SALONBOOK_PG_PORT and the
# current location of the repository.
write_managed_conf() {
	local sockdirs sockpath="$SOCK_DIR/.s.PGSQL.$PORT"
	sockdirs="$(conf_quote "$SOCK_DIR")"
	if ((${#sockpath} > 107)) || [[ "$SOCK_DIR" == *,* ]]; then
		log "note: unix socket path $sockpath is too long (or contains ','); TCP only"
		sockdirs="''"
	fi
	cat >"$PGDATA_DIR/salonbook.conf" <<EOF
# Managed by scripts/db.sh; rewritten on every start. Do not edit.
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = $sockdirs
max_connections = 200
EOF
	if is_root; then chown "$PG_USER:" "$PGDATA_DIR/salonbook.conf"; fi
}

init_cluster() {
	if [[ -d "$PGDATA_DIR" ]]; then
		log "removing incomplete cluster directory $PGDATA_DIR (no $INIT_MARKER)"
		rm -rf -- "$PGDATA_DIR"
	fi
	log "initialising private PostgreSQL cluster in $PGDATA_DIR ($("$BINDIR/postgres" --version 2>/dev/null || echo postgres))"
	as_pg "$BINDIR/initdb" -D "$PGDATA_DIR" --auth=trust -U postgres -E UTF8 --no-locale >&2 \
		|| die "initdb failed"
	cat >"$PGDATA_DIR/pg_hba.conf" <<'EOF'
# Managed by scripts/db.sh: trust, local socket and 127.0.0.1 only.
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   127.0.0.1/32  trust
EOF
	printf "\n# salonbook private-cluster settings\ninclude_if_exists = 'salonbook.conf'\n" \
		>>"$PGDATA_DIR/postgresql.conf"
	if is_root; then chown "$PG_USER:" "$PGDATA_DIR/pg_hba.conf" "$PGDATA_DIR/postgresql.conf"; fi
	touch "$INIT_MARKER"
	if is_root; then chown "$PG_USER:" "$INIT_MARKER"; fi
}

cluster_running() {
	cluster_exists || return 1
	as_pg "$BINDIR/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1
}

# pg_ctl only checks that the PID in postmaster.pid exists. Wait for a killed
# postmaster's zombie to be reaped, and drop a pid file whose PID now belongs to some
# other program (e.g. after a reboot); pg_ctl/postgres handle the other stale cases.
clear_stale_pid() {
	local pidf="$PGDATA_DIR/postmaster.pid" pid state comm deadline=$((SECONDS + START_TIMEOUT)) said=""
	[[ -f "$pidf" ]] || return 0
	pid="$(head -n 1 "$pidf" | tr -d '[:space:]')"
	[[ "$pid" =~ ^[0-9]+$ ]] || return 0
	while state="$(sed -E 's/^.*\) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" \
		&& [[ "$state" == Z ]]; do
		((SECONDS < deadline)) \
			|| die "old server process $pid is defunct and was not reaped within ${START_TIMEOUT}s (is PID 1 reaping children?)"
		[[ -n "$said" ]] || log "previous server process $pid has died; waiting for it to be reaped"
		said=1
		sleep 0.3
	done
	if comm="$(cat "/proc/$pid/comm" 2>/dev/null)" && [[ "$comm" != postgres* ]]; then
		log "removing stale $pidf (PID $pid is now '$comm')"
		rm -f -- "$pidf"
	fi
}

# Port the running postmaster listens on (line 4 of postmaster.pid).
running_port() {
	sed -n '4p' "$PGDATA_DIR/postmaster.pid" 2>/dev/null | tr -d '[:space:]'
}

log_tail() {
	if [[ -r "$LOG_FILE" ]]; then
		printf 'db.sh: last lines of %s:\n' "$LOG_FILE" >&2
		tail -n 20 "$LOG_FILE" | sed 's/^/    /' >&2
	fi
}

wait_ready() {
	local isready deadline=$((SECONDS + START_TIMEOUT))
	isready="$(find_client pg_isready)" || die "pg_isready not found"
	until "$isready" -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -t 2 >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			log "PostgreSQL on 127.0.0.1:$PORT did not become ready within ${START_TIMEOUT}s"
			log_tail
			exit 1
		fi
		sleep 0.3
	done
}

ensure_cluster() {
	check_port
	acquire_lock
	need_server_bindir
	prepare_dirs
	cluster_exists || init_cluster
	clear_stale_pid

	if cluster_running; then
		local rp
		rp="$(running_port)"
		if [[ -n "$rp" && "$rp" != "$PORT" ]]; then
			log "note: private cluster is already running on port $rp (requested $PORT); using $rp (run 'scripts/db.sh stop' to change it)"
			PORT="$rp"
		fi
		wait_ready
		log "reusing private PostgreSQL on 127.0.0.1:$PORT"
		return 0
	fi

	if tcp_open 127.0.0.1 "$PORT"; then
		if [[ -n "${SALONBOOK_PG_PORT:-}" ]]; then
			die "port $PORT on 127.0.0.1 is already used by another process; set SALONBOOK_PG_PORT to a free port"
		fi
		# Another checkout's private cluster (or anything else) has the default
		# port: take the next free one rather than fail.
		local p
		for ((p = PORT + 1; p <= PORT + 70; p++)); do
			if ! tcp_open 127.0.0.1 "$p"; then break; fi
		done
		tcp_open 127.0.0.1 "$p" && die "no free port in $PORT..$p on 127.0.0.1; set SALONBOOK_PG_PORT"
		log "port $PORT is taken; using $p"
		PORT=$p
	fi
	local attempt
	for ((attempt = 1; ; attempt++)); do
		write_managed_conf
		log "starting private PostgreSQL on 127.0.0.1:$PORT (log: $LOG_FILE)"
		if as_pg "$BINDIR/pg_ctl" -D "$PGDATA_DIR" -l "$LOG_FILE" -w -t "$START_TIMEOUT" start >&2; then
			break
		fi
		# A free-looking port can be taken between the check and the bind (a
		# client socket of a busy machine gets it as its ephemeral port): try
		# the next one, unless the port was asked for.
		if ((attempt < 5)) && [[ -z "${SALONBOOK_PG_PORT:-}" ]] && tail -n 20 "$LOG_FILE" 2>/dev/null | grep -q "Address already in use"; then
			local p
			for ((p = PORT + 1; p <= PORT + 70; p++)); do
				if ! tcp_open 127.0.0.1 "$p"; then break; fi
			done
			log "port $PORT was taken meanwhile; trying $p"
			PORT=$p
			continue
		fi
		log "pg_ctl start failed"
		log_tail
		exit 1
	done
	wait_ready
}

# ---- commands -----------------------------------------------------------------------

cmd_url() {
	local url="${DATABASE_URL:-}"
	if [[ -n "$url" ]]; then
		if url_reachable "$url"; then
			printf '%s\n' "$url"
			return 0
		fi
		check_port
		if [[ "$url" != "$(private_url)" ]]; then
			log "note: DATABASE_URL ($(redact "$url")) is not reachable; using the private cluster under .data/ instead"
		fi
	fi
	ensure_cluster
	printf '%s\n' "$(private_url)"
}

cmd_start() {
	ensure_cluster
	log "private PostgreSQL ready: $(private_url)"
}

cmd_stop() {
	if ! cluster_exists; then
		log "no private cluster under $PG_ROOT; nothing to stop"
		return 0
	fi
	acquire_lock
	need_server_bindir noinstall
	clear_stale_pid
	if ! cluster_running; then
		log "private cluster is not running"
		return 0
	fi
	as_pg "$BINDIR/pg_ctl" -D "$PGDATA_DIR" stop -m fast -w -t 60 >&2 || die "pg_ctl stop failed"
}

cmd_status() {
	if ! cluster_exists; then
		echo "no private cluster (would be created in $PGDATA_DIR)"
		return 3
	fi
	need_server_bindir noinstall
	if cluster_running; then
		local rp
		rp="$(running_port)"
		PORT="${rp:-$PORT}"
		echo "running: $(private_url) (data: $PGDATA_DIR, log: $LOG_FILE)"
		return 0
	fi
	echo "stopped (data: $PGDATA_DIR)"
	return 3
}

main() {
	case "${1:-}" in
	url) cmd_url ;;
	start) cmd_start ;;
	stop) cmd_stop ;;
	status) cmd_status ;;
	-h | --help | help) usage ;;
	*)
		usage
		exit 2
		;;
	esac
}

main "$@"
