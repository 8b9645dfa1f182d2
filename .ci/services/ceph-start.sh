#!/usr/bin/env bash
# Starts a one-machine Ceph with an S3 gateway for the scale-out tests and benchmarks: one
# monitor, one OSD (BlueStore on a sparse file), one radosgw (beast) on 127.0.0.1:$FERRY_RGW_PORT
# (default 7481). Everything lives under $FERRY_CEPH_DIR (default /tmp/ferry-ceph); no systemd,
# no mgr. Installs Debian's ceph packages first when they are missing and we are root.
# Idempotent: running daemons are kept; a stopped gateway (see ceph-stop.sh --rgw) is started
# again. Writes $FERRY_CEPH_DIR/env with FERRY_S3_* settings for the tests to read.
set -euo pipefail
DIR="${FERRY_CEPH_DIR:-/tmp/ferry-ceph}"
MON_PORT="${FERRY_CEPH_MON_PORT:-16789}"
RGW_PORT="${FERRY_RGW_PORT:-7481}"
ACCESS_KEY="${FERRY_RGW_ACCESS_KEY:-FERRYTESTACCESSKEY01}"
SECRET_KEY="${FERRY_RGW_SECRET_KEY:-ferry-test-secret-key-not-for-production}"
CONF="$DIR/ceph.conf"
T0=$(date +%s.%N)

log() { echo "ceph-start: $*" >&2; }

if ! command -v ceph-mon >/dev/null || ! command -v ceph-osd >/dev/null || ! command -v radosgw >/dev/null || ! command -v ceph >/dev/null; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    log "Ceph is not installed: apt-get install radosgw ceph-mon ceph-osd ceph-common (as root)"
    exit 1
  fi
  log "installing radosgw ceph-mon ceph-osd ceph-common with apt-get…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends radosgw ceph-mon ceph-osd ceph-common >/dev/null
fi

running() { [ -f "$DIR/run/$1.pid" ] && kill -0 "$(cat "$DIR/run/$1.pid")" 2>/dev/null; }
C() { ceph -c "$CONF" --connect-timeout 10 "$@"; }

mkdir -p "$DIR"/{run,log,mon,osd}
if [ ! -f "$CONF" ]; then
  FSID=$(uuidgen)
  # cephx off: the cluster listens on loopback only and lives for one test run.
  cat >"$CONF" <<CONF
[global]
fsid = $FSID
mon host = v1:127.0.0.1:$MON_PORT
ms bind msgr2 = false
auth cluster required = none
auth service required = none
auth client required = none
run dir = $DIR/run
pid file = $DIR/run/\$name.pid
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
mon data = $DIR/mon/\$cluster-\$id
osd data = $DIR/osd/\$cluster-\$id
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail warn = 1
mon data avail crit = 0
osd objectstore = bluestore
bluestore block path = $DIR/osd/block
bluestore block size = 21474836480
bluestore block create = true
bluestore fsck on mount = false
bdev enable discard = false
osd memory target = 939524096
bluestore cache autotune = false
bluestore cache size = 134217728
debug ms = 0
[client.rgw.ferry]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw dns name = 127.0.0.1
rgw thread pool size = 128
rgw data = $DIR/rgw
log file = $DIR/log/rgw.log
CONF
fi

if ! running mon.a; then
  if [ ! -d "$DIR/mon/ceph-a" ]; then
    FSID=$(sed -n 's/^fsid = //p' "$CONF")
    monmaptool --create --clobber --fsid "$FSID" --addv a "[v1:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null
    ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" >/dev/null
  fi
  ceph-mon -c "$CONF" -i a 2>>"$DIR/log/mon-stderr.log"
fi

if ! running osd.0; then
  if [ ! -f "$DIR/osd/ceph-0/whoami" ]; then
    OSD_UUID=$(uuidgen)
    ID=$(C osd create "$OSD_UUID")
    [ "$ID" = 0 ] || { log "expected osd id 0, got $ID"; exit 1; }
    mkdir -p "$DIR/osd/ceph-0"
    ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$OSD_UUID" >/dev/null 2>"$DIR/log/osd-mkfs.log" || { cat "$DIR/log/osd-mkfs.log" >&2; exit 1; }
    C osd crush add osd.0 1.0 root=default host=localhost >/dev/null 2>&1 || true
  fi
  ceph-osd -c "$CONF" -i 0 2>>"$DIR/log/osd-stderr.log"
fi

# The gateway creates its pools on first start; that needs the OSD up.
for _ in $(seq 1 60); do
  C osd stat 2>/dev/null | grep -q '1 up' && break
  sleep 0.5
done

if ! running client.rgw.ferry; then
  mkdir -p "$DIR/rgw"
  radosgw -c "$CONF" -n client.rgw.ferry 2>>"$DIR/log/rgw-stderr.log"
fi
for i in $(seq 1 120); do
  curl -fsS -o /dev/null "http://127.0.0.1:$RGW_PORT/" 2>/dev/null && break
  [ "$i" = 120 ] && { log "radosgw did not answer on 127.0.0.1:$RGW_PORT; see $DIR/log/rgw.log"; tail -20 "$DIR/log/rgw.log" >&2; exit 1; }
  sleep 0.5
done

if ! radosgw-admin -c "$CONF" user info --uid ferry >/dev/null 2>&1; then
  radosgw-admin -c "$CONF" user create --uid ferry --display-name "Ferry tests" \
    --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" >/dev/null
fi

cat >"$DIR/env" <<ENV
FERRY_S3_ENDPOINT=http://127.0.0.1:$RGW_PORT
FERRY_S3_REGION=us-east-1
FERRY_S3_ACCESS_KEY=$ACCESS_KEY
FERRY_S3_SECRET_KEY=$SECRET_KEY
FERRY_S3_FORCE_PATH_STYLE=true
ENV
chmod a+r "$DIR/env"
log "RGW ready on http://127.0.0.1:$RGW_PORT after $(echo "$(date +%s.%N) - $T0" | bc 2>/dev/null || echo '?') s"
echo "http://127.0.0.1:$RGW_PORT"
