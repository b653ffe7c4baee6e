# scripts/pgenv.sh — sourced by backup.sh and restore.sh: turns DATABASE_URL into libpq's
# environment (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE, …), so that no
# password is on a command line (any user can read another's argv in ps). Only URLs
# (postgres://user:password@host:port/database?sslmode=…) are understood.
pg_url_decode() { local s="${1//+/ }"; printf '%b' "${s//%/\\x}"; }
pg_env_from_url() {
	local url="$1" re='^postgres(ql)?://(([^@/?]*)@)?([^/?]*)(/([^?]*))?(\?(.*))?$'
	[[ $url =~ $re ]] || { echo "${0##*/}: DATABASE_URL must be a postgres:// URL" >&2; return 1; }
	local userinfo="${BASH_REMATCH[3]}" hostport="${BASH_REMATCH[4]}" db="${BASH_REMATCH[6]}" query="${BASH_REMATCH[8]}"
	if [[ -n $userinfo ]]; then
		export PGUSER; PGUSER="$(pg_url_decode "${userinfo%%:*}")"
		if [[ $userinfo == *:* ]]; then export PGPASSWORD; PGPASSWORD="$(pg_url_decode "${userinfo#*:}")"; fi
	fi
	local host="$hostport" port=""
	if [[ $hostport =~ ^\[([^]]*)\](:([0-9]*))?$ ]]; then
		host="${BASH_REMATCH[1]}" port="${BASH_REMATCH[3]}"
	elif [[ $hostport == *:* ]]; then
		host="${hostport%:*}" port="${hostport##*:}"
	fi
	if [[ -n $host ]]; then export PGHOST; PGHOST="$(pg_url_decode "$host")"; fi
	if [[ -n $port ]]; then export PGPORT="$port"; fi
	if [[ -n $db ]]; then export PGDATABASE; PGDATABASE="$(pg_url_decode "$db")"; fi
	local pair key value IFS='&'
	for pair in $query; do
		key="${pair%%=*}" value="$(pg_url_decode "${pair#*=}")"
		case $key in
		host) export PGHOST="$value" ;;
		port) export PGPORT="$value" ;;
		user) export PGUSER="$value" ;;
		password) export PGPASSWORD="$value" ;;
		dbname) export PGDATABASE="$value" ;;
		passfile) export PGPASSFILE="$value" ;;
		sslmode) export PGSSLMODE="$value" ;;
		sslrootcert) export PGSSLROOTCERT="$value" ;;
		sslcert) export PGSSLCERT="$value" ;;
		sslkey) export PGSSLKEY="$value" ;;
		connect_timeout) export PGCONNECT_TIMEOUT="$value" ;;
		application_name) export PGAPPNAME="$value" ;;
		options) export PGOPTIONS="$value" ;;
		target_session_attrs) export PGTARGETSESSIONATTRS="$value" ;;
		*) echo "${0##*/}: DATABASE_URL parameter $key is not understood here" >&2; return 1 ;;
		esac
	done
}
