#!/usr/bin/env bash
# Stops the cluster pg-start.sh started (fast shutdown). --purge also deletes its folder.
set -euo pipefail
DIR="${FERRY_PG_DIR:-/tmp/ferry-pg}"
BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -n "$BIN" ] || BIN="$(dirname "$(readlink -f "$(command -v pg_ctl)")")"
if [ -f "$DIR/data/postmaster.pid" ]; then
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$BIN/pg_ctl" -D "$DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  else
    "$BIN/pg_ctl" -D "$DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  fi
fi
if [ "${1:-}" = "--purge" ]; then rm -rf "$DIR"; fi
