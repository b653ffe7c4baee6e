#!/usr/bin/env bash
# scripts/browser.sh — make sure a headless Chromium is there for the web chat's
# browser test (Debian's chromium package; no browser is downloaded from elsewhere).
# As root it installs the package when missing; otherwise it says what to install,
# and the browser test skips itself.
set -euo pipefail
for b in chromium chromium-browser google-chrome; do
	if command -v "$b" >/dev/null 2>&1; then exit 0; fi
done
if [[ "$(id -u)" -ne 0 ]]; then
	echo "browser.sh: no chromium; install it (sudo apt-get install chromium) to run the browser test" >&2
	exit 0
fi
echo "browser.sh: installing Debian's chromium for the browser test" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq chromium >&2
