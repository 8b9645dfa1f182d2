#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the scale-out tests and benchmarks: initdb under
# $FERRY_PG_DIR (default /tmp/ferry-pg) on 127.0.0.1:$FERRY_PG_PORT (default 54329), trust auth
# on loopback only, a database "ferry". Idempotent: a running cluster is left as it is.
# Writes $FERRY_PG_DIR/env with FERRY_DATABASE_URL=… for the tests to read.
set -euo pipefail
DIR="${FERRY_PG_DIR:-/tmp/ferry-pg}"
PORT="${FERRY_PG_PORT:-54329}"
BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
if [ -z "$BIN" ]; then
  for c in initdb pg_ctl; do command -v "$c" >/dev/null || { echo "pg-start: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }; done
  BIN="$(dirname "$(readlink -f "$(command -v initdb)")")"
fi

# initdb and postgres refuse to run as root: run them as the postgres user then.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    if command -v runuser >/dev/null; then runuser -u postgres -- "$@"; else su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; fi
  else
    "$@"
  fi
}

mkdir -p "$DIR"
[ "$(id -u)" = 0 ] && chown postgres: "$DIR"
if [ ! -f "$DIR/data/PG_VERSION" ]; then
  as_pg "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
    || { cat "$DIR/initdb.log" >&2; exit 1; }
fi
if ! as_pg "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
  # fsync off and small shared buffers: a test cluster that is thrown away, on a 2-core box.
  as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/postgres.log" -w -t 30 start \
    -o "-h 127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=64MB" >/dev/null \
    || { tail -20 "$DIR/postgres.log" >&2; exit 1; }
fi
if ! as_pg "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc "select 1 from pg_database where datname='ferry'" postgres | grep -q 1; then
  as_pg "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres ferry
fi
URL="postgres://postgres@127.0.0.1:$PORT/ferry"
echo "FERRY_DATABASE_URL=$URL" >"$DIR/env"
chmod a+r "$DIR/env"
echo "$URL"
