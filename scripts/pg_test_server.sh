#!/usr/bin/env bash
# A throwaway PostgreSQL server for the storage tests, on 127.0.0.1 and a free port.
#
#   scripts/pg_test_server.sh start [OWNER_PID]   prints two lines: the SQLAlchemy URL, the cluster dir
#   scripts/pg_test_server.sh stop DIR            stops that server and removes its files
#
# Installs PostgreSQL with apt when it is missing. Root cannot run postgres, so as
# root the server runs as the `postgres` system user (created when missing). With
# OWNER_PID, a watchdog stops the server by itself as soon as that process ends
# (e.g. a pytest session that was killed). Data lives in a temp dir with fsync off:
# for tests only.
set -euo pipefail

die() { echo "pg_test_server: $*" >&2; exit 1; }

pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$d" ] && command -v pg_config >/dev/null; then d=$(pg_config --bindir); fi
  [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

ensure_installed() {
  if [ -z "$(pg_bindir || true)" ]; then
    echo "pg_test_server: installing postgresql (apt)" >&2
    local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq >&2 || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >&2 \
      || die "cannot install postgresql with apt"
  fi
  [ -n "$(pg_bindir || true)" ] || die "postgresql binaries not found after install"
}

run_as() {  # run a command as the server's (non-root) user
  if [ "$(id -u)" -eq 0 ]; then
    id -u postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 - <<'PY' 2>/dev/null || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

cmd_start() {
  local owner=${1:-}
  ensure_installed
  local bin dir port
  bin=$(pg_bindir)
  dir=$(mktemp -d /tmp/susurrus-pg.XXXXXX)
  chmod 0755 "$dir"
  [ "$(id -u)" -eq 0 ] && { id -u postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres; chown postgres "$dir"; }
  run_as "$bin/initdb" -D "$dir/data" -U susurrus -A trust -E UTF8 --locale=C.UTF-8 --no-sync \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  local tries=0
  while :; do
    port=$(free_port)
    if run_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-h 127.0.0.1 -p $port -k $dir -F -c max_connections=50" start </dev/null >/dev/null 2>&1; then
      break
    fi
    tries=$((tries + 1))
    [ $tries -ge 3 ] && { cat "$dir/server.log" >&2 || true; die "server did not start"; }
  done
  run_as "$bin/createdb" -h 127.0.0.1 -p "$port" -U susurrus susurrus_test </dev/null >/dev/null 2>&1 \
    || die "createdb failed"
  if [ -n "$owner" ]; then
    # watchdog: stop the server as soon as its owner is gone
    setsid nohup bash -c "while kill -0 $owner 2>/dev/null && [ -d '$dir/data' ]; do sleep 1; done; \
      '$0' stop '$dir'" </dev/null >/dev/null 2>&1 &
  fi
  echo "postgresql+psycopg://susurrus@127.0.0.1:$port/susurrus_test"
  echo "$dir"
}

cmd_stop() {
  local dir=${1:?usage: pg_test_server.sh stop DIR}
  case "$dir" in /tmp/susurrus-pg.*) ;; *) die "refusing to stop $dir (not a test cluster)";; esac
  local bin
  bin=$(pg_bindir) || die "postgresql not installed"
  if [ -f "$dir/data/postmaster.pid" ]; then
    run_as "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop </dev/null >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  *) echo "usage: $0 start [OWNER_PID] | stop DIR" >&2; exit 2 ;;
esac
