#!/usr/bin/env bash
# Browser tests drive Debian's chromium through Playwright. Install it when missing (we are root on
# CI and dev machines); without root, the browser tests skip with a message instead.
set -u
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian chromium and CJK fonts for the browser tests…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null && apt-get install -y -q chromium fonts-noto-cjk >/dev/null \
    || echo "warning: could not install chromium; browser tests will be skipped" >&2
else
  echo "warning: chromium not found and not root; browser tests will be skipped" >&2
fi
exit 0
