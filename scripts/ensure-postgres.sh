#!/usr/bin/env bash
# PostgreSQL-marked tests start a throwaway cluster of their own with Debian's PostgreSQL server
# binaries (initdb, pg_ctl). Install the server when missing (we are root on CI and dev machines);
# without it the PostgreSQL tests skip with a message instead.
set -u
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's PostgreSQL server for the PostgreSQL tests…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null && apt-get install -y -q postgresql >/dev/null \
    || echo "warning: could not install postgresql; PostgreSQL tests will be skipped" >&2
else
  echo "warning: PostgreSQL server not found and not root; PostgreSQL tests will be skipped" >&2
fi
exit 0
