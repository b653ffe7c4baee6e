#!/usr/bin/env bash
# go-check.sh — Claude Code PostToolUse hook for Edit|MultiEdit|Write: after a .go
# file changes, check it with gofmt and build and vet its package (seconds, not the
# test suite). On failure exit 2 with the tool's messages on stderr, which Claude
# reads and fixes while the change is fresh. Other files, deleted files, files
# outside a Go module and input the hook cannot read pass with exit 0.
set -u

case ${BASH_SOURCE[0]} in
*/*) here=${BASH_SOURCE[0]%/*} ;;
*) here=. ;;
esac
# shellcheck source=SCRIPTDIR/lib.sh
if ! . "$here/lib.sh"; then
	echo "go-check: cannot load $here/lib.sh; Go edits are NOT checked" >&2
	exit 1
fi

pass() {
	echo "go-check: skipped: $1" >&2
	exit 0
}

# fail TITLE OUTPUT shows at most 60 lines of the tool's output: the compiler stops at
# ten errors anyway, and the rest would only crowd Claude's context.
fail() {
	{
		echo "go-check: $1"
		printf '%s\n' "$2" | head -n 60
		echo "Fix these before going on."
	} >&2
	exit 2
}

if ! hook_read_stdin; then
	pass "stdin is a terminal, not hook JSON"
fi
if hook_input_blank; then
	pass "no input on stdin"
fi
if ! hook_file_and_base; then
	pass "$HOOK_WHY"
fi
file=$HOOK_FILE
case $file in
*.go) ;;
*) exit 0 ;;
esac
if [[ ! -f $file ]]; then
	pass "$file does not exist (deleted?)"
fi
if ! command -v go >/dev/null 2>&1; then
	pass "the go command is not on PATH, so $file was not checked"
fi

# The module root is the nearest directory above the file holding go.mod.
dir=${file%/*}
dir=${dir:-/}
mod=$dir
while [[ ! -f $mod/go.mod ]]; do
	if [[ $mod == / ]]; then
		pass "$file is not inside a Go module"
	fi
	mod=${mod%/*}
	mod=${mod:-/}
done
rel=${dir#"$mod"}
case $rel/ in
*/testdata/* | */_* | */.*) pass "the go tool ignores ${rel#/}, where $file lives" ;;
esac
pkg=.$rel
shown=${file#"$mod"/}

if ! out=$(gofmt -l -- "$file" 2>&1); then
	fail "gofmt cannot parse $shown:" "$out"
fi
if [[ -n $out ]]; then
	fail "$shown is not gofmt-formatted; run: gofmt -w $shown. The change gofmt wants:" \
		"$(gofmt -d -- "$file" 2>&1)"
fi

cd -- "$mod" || pass "cannot enter the module root $mod"
# -o /dev/null: a main package must not leave a binary in the module root.
if ! out=$(go build -o /dev/null "$pkg" 2>&1); then
	case $out in
	*"build constraints exclude all Go files"*) pass "build constraints exclude $pkg on this platform" ;;
	*"no non-test Go files"*) ;; # only tests here: go vet below compiles them
	*) fail "go build $pkg failed after the edit of $shown:" "$out" ;;
	esac
fi
# go vet type-checks the package's _test.go files too, which go build skips.
if ! out=$(go vet "$pkg" 2>&1); then
	fail "go vet $pkg failed after the edit of $shown:" "$out"
fi
exit 0
