#!/usr/bin/env bash
# guard-secrets.sh — Claude Code PreToolUse hook for Edit|MultiEdit|Write: refuse any
# write to a secret before it happens. Exit 2 blocks the tool call and shows Claude
# the reason on stderr; exit 0 lets it through.
#
# Protected: .env and .env.* (not .env.example), *.pem, *.key, credentials and
# service-account JSON, anything under a secrets/ folder or under .git/. The path is
# made absolute and normalised first (./.env, src/../.env, /abs/.env, \/-escaped JSON
# all count), matched without regard to case, and matched again after following
# symlinks. Empty, malformed or terminal input is allowed with a note on stderr:
# the hook must never hang or block work it cannot read.
set -u

case ${BASH_SOURCE[0]} in
*/*) here=${BASH_SOURCE[0]%/*} ;;
*) here=. ;;
esac
# shellcheck source=SCRIPTDIR/lib.sh
if ! . "$here/lib.sh"; then
	echo "guard-secrets: cannot load $here/lib.sh; refusing the write rather than leaving secrets unguarded" >&2
	exit 2
fi

allow() {
	echo "guard-secrets: allowing: $1" >&2
	exit 0
}

lower() {
	printf '%s' "$1" | tr '[:upper:]' '[:lower:]'
}

# secret_reason PATH ROOT sets REPLY to why PATH (absolute) is protected and
# succeeds, or fails when it is not. Folder rules look only below ROOT when PATH is
# inside it, so a project that happens to live under ~/secrets/ still works.
secret_reason() {
	local path root rel name shown=${1##*/}
	path=$(lower "$1")
	root=$(lower "$2")
	rel=$path
	if [[ $root != / && $path == "$root"/* ]]; then
		rel=${path#"$root"}
	fi
	name=${path##*/}
	case $rel in
	*/.git/* | */.git)
		REPLY="it is inside .git/; change the repository with git commands, not by editing its files"
		return 0
		;;
	*/secrets/*)
		REPLY="it is under a secrets/ folder"
		return 0
		;;
	esac
	case $name in
	.env.example) return 1 ;;
	.env | .env.*)
		REPLY="$shown holds real environment values; document a new variable in .env.example instead"
		return 0
		;;
	*.pem | *.key | *.p12 | *.pfx | id_rsa | id_rsa.* | id_ed25519 | id_ed25519.* | id_ecdsa | id_ecdsa.*)
		REPLY="$shown is a key or certificate"
		return 0
		;;
	.envrc | .pgpass | .netrc | api-token)
		REPLY="$shown holds credentials"
		return 0
		;;
	credentials*.json | *service-account*.json | *service_account*.json | *serviceaccount*.json | client_secret*.json)
		REPLY="$shown looks like a credentials or service-account file"
		return 0
		;;
	esac
	return 1
}

block() {
	{
		echo "guard-secrets: blocked a write to $1: $2."
		echo "Secrets stay out of the assistant's hands: leave this file alone and ask the developer to change it."
	} >&2
	exit 2
}

if ! hook_read_stdin; then
	allow "stdin is a terminal, not hook JSON; nothing to check"
fi
if hook_input_blank; then
	allow "no input on stdin; nothing to check"
fi
if ! hook_file_and_base; then
	allow "$HOOK_WHY"
fi

root=${CLAUDE_PROJECT_DIR:-$HOOK_BASE}
hook_abs_path "$root" "$HOOK_BASE"
root=$REPLY

if secret_reason "$HOOK_FILE" "$root"; then
	block "$HOOK_FILE" "$REPLY"
fi

# The same file reached through a symlink (a link to .env, a folder linked into
# secrets/) is caught on its real path. readlink -f needs only the parent to exist.
real=$(readlink -f -- "$HOOK_FILE" 2>/dev/null) || real=''
if [[ -n $real && $real != "$HOOK_FILE" ]]; then
	real_root=$(cd -- "$root" 2>/dev/null && pwd -P) || real_root=$root
	if secret_reason "$real" "$real_root"; then
		block "$HOOK_FILE (really $real)" "$REPLY"
	fi
fi
exit 0
