#!/usr/bin/env bash
# Stops what ceph-start.sh started. --rgw: only the gateway (the fault tests take S3 away and
# bring it back with ceph-start.sh). --purge: also delete the cluster's folder.
set -euo pipefail
DIR="${FERRY_CEPH_DIR:-/tmp/ferry-ceph}"
stop() {
  local f="$DIR/run/$1.pid" pid
  if [ -f "$f" ]; then
    pid=$(cat "$f")
  else
    # A lost pid file (two test runs sharing the daemons) must not leave the gateway running:
    # find it by its command line, which names this cluster's config and the daemon's name.
    pid=$(pgrep -f -- "-c $DIR/ceph.conf -n $1( |\$)" | head -n 1 || true)
    [ -n "$pid" ] || return 0
  fi
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}
stop client.rgw.ferry
if [ "${1:-}" != "--rgw" ]; then
  stop osd.0
  stop mon.a
fi
if [ "${1:-}" = "--purge" ]; then rm -rf "$DIR"; fi
