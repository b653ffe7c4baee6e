# shellcheck shell=bash
# shellcheck disable=SC2034 # HOOK_* are set here for the scripts that source this file
# lib.sh — shared by the Claude Code hooks beside it; sourced, never run. It reads the
# hook's JSON from stdin without ever hanging, pulls string fields out of it without
# jq, and makes paths absolute without touching the disk. Needs bash and coreutils.

# hook_read_stdin sets HOOK_INPUT to all of stdin. It returns 1, with HOOK_INPUT
# empty, when stdin is a terminal (someone ran the hook by hand), and gives up after
# HOOK_STDIN_TIMEOUT seconds (default 10) when the writer never closes the pipe.
# Claude Code writes the whole JSON and closes stdin, so the limit is never reached.
hook_read_stdin() {
	HOOK_INPUT=''
	if [ -t 0 ]; then
		return 1
	fi
	local limit=${HOOK_STDIN_TIMEOUT:-10} timeout_cmd
	for timeout_cmd in timeout gtimeout; do
		if command -v "$timeout_cmd" >/dev/null 2>&1; then
			HOOK_INPUT=$("$timeout_cmd" "$limit" cat)
			return 0
		fi
	done
	# No timeout(1): bash's read reads a pipe one byte at a time, slow on a large
	# Write but bounded by the same limit.
	IFS= read -r -d '' -t "$limit" HOOK_INPUT || true
	return 0
}

# hook_input_blank succeeds when HOOK_INPUT holds nothing but white space.
hook_input_blank() {
	[[ $HOOK_INPUT =~ ^[[:space:]]*$ ]]
}

# hook_json_string KEY sets REPLY to the decoded value of the first string member
# "KEY" of HOOK_INPUT, and fails when there is none or its escapes are broken. The
# key must follow "{" or ",", so text inside another string (where every quote is
# escaped) never matches: a Write whose content mentions "file_path" is not misread.
hook_json_string() {
	local re='[{,][[:space:]]*"'"$1"'"[[:space:]]*:[[:space:]]*"(([^"\\]|\\.)*)"'
	REPLY=''
	[[ $HOOK_INPUT =~ $re ]] || return 1
	hook_json_unescape "${BASH_REMATCH[1]}"
}

# hook_json_unescape S sets REPLY to the JSON string body S with its escapes decoded
# (\" \\ \/ \b \f \n \r \t \uXXXX); it fails on a bad escape or \u0000.
hook_json_unescape() {
	local s=$1 out='' c hex code
	while [[ $s == *\\* ]]; do
		out+=${s%%\\*}
		s=${s#*\\}
		c=${s:0:1}
		s=${s:1}
		case $c in
		'"' | \\ | /) out+=$c ;;
		b) out+=$'\b' ;;
		f) out+=$'\f' ;;
		n) out+=$'\n' ;;
		r) out+=$'\r' ;;
		t) out+=$'\t' ;;
		u)
			hex=${s:0:4}
			s=${s:4}
			[[ $hex =~ ^[0-9a-fA-F]{4}$ ]] || return 1
			code=$((16#$hex))
			if ((code == 0)); then
				return 1
			elif ((code < 128)); then
				# shellcheck disable=SC2059 # the format is an octal escape we built
				printf -v c "\\$(printf '%03o' "$code")"
			else
				# Non-ASCII never spells a protected name; bash ≥4.2 decodes it exactly.
				# shellcheck disable=SC2059
				printf -v c "\\u$hex"
			fi
			out+=$c
			;;
		*) return 1 ;;
		esac
	done
	REPLY=$out$s
}

# hook_abs_path PATH BASE sets REPLY to PATH made absolute against BASE, with empty,
# "." and ".." segments collapsed. The file need not exist; symlinks are kept.
hook_abs_path() {
	local p=$1 base=$2 rest seg
	local -a stack=()
	if [[ $p != /* ]]; then
		if [[ $base != /* ]]; then
			base=$PWD/$base
		fi
		p=$base/$p
	fi
	rest=$p/
	while [[ -n $rest ]]; do
		seg=${rest%%/*}
		rest=${rest#*/}
		case $seg in
		'' | .) ;;
		..)
			if ((${#stack[@]} > 0)); then
				unset 'stack[${#stack[@]}-1]'
			fi
			;;
		*) stack+=("$seg") ;;
		esac
	done
	if ((${#stack[@]} == 0)); then
		REPLY=/
		return 0
	fi
	local IFS=/
	REPLY=/${stack[*]}
}

# hook_file_and_base sets HOOK_FILE to tool_input.file_path made absolute and
# HOOK_BASE to the directory relative paths are resolved in: the JSON's "cwd", else
# $CLAUDE_PROJECT_DIR, else $PWD. It fails, with HOOK_WHY saying why, when the input
# holds no usable file_path.
hook_file_and_base() {
	HOOK_FILE='' HOOK_BASE='' HOOK_WHY=''
	if ! hook_json_string file_path; then
		if [[ ! $HOOK_INPUT =~ ^[[:space:]]*\{ ]]; then
			HOOK_WHY='the input on stdin is not a JSON object'
		else
			HOOK_WHY='the input has no readable tool_input.file_path (malformed JSON?)'
		fi
		return 1
	fi
	if [[ -z $REPLY ]]; then
		HOOK_WHY='tool_input.file_path is empty'
		return 1
	fi
	local path=$REPLY
	if hook_json_string cwd && [[ -n $REPLY ]]; then
		HOOK_BASE=$REPLY
	else
		HOOK_BASE=${CLAUDE_PROJECT_DIR:-$PWD}
	fi
	hook_abs_path "$HOOK_BASE" "$PWD"
	HOOK_BASE=$REPLY
	hook_abs_path "$path" "$HOOK_BASE"
	HOOK_FILE=$REPLY
}
