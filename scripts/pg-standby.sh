#!/usr/bin/env bash
# pg-standby.sh start|stop DIR [PRIMARY_PORT] [STANDBY_PORT]
#
# A throwaway PostgreSQL primary and a streaming hot standby of it, in DIR, on ports of their
# own, made with Debian's PostgreSQL binaries run as the postgres user. The machine's own server
# refuses replication connections and is left alone. `start` prints the two URLs as
#   PRIMARY_URL=...
#   REPLICA_URL=...
# and returns once the standby streams; `stop` stops both and removes DIR.
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?directory}
pport=${3:-55432}
sport=${4:-55433}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "pg-standby: no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)" >&2; exit 1; }
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  as_pg "$bin/initdb" -D "$dir/primary" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  cat >>"$dir/primary/postgresql.conf" <<CONF
port = $pport
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
wal_level = replica
max_wal_senders = 4
hot_standby = on
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 64MB
CONF
  echo "host replication postgres 127.0.0.1/32 trust" >>"$dir/primary/pg_hba.conf"
  as_pg "$bin/pg_ctl" -D "$dir/primary" -l "$dir/primary.log" -w start >/dev/null
  as_pg "$bin/pg_basebackup" -h 127.0.0.1 -p "$pport" -U postgres -D "$dir/standby" -R -X stream -c fast >/dev/null
  sed -i "s/^port = .*/port = $sport/" "$dir/standby/postgresql.conf"
  as_pg "$bin/pg_ctl" -D "$dir/standby" -l "$dir/standby.log" -w start >/dev/null
  for _ in $(seq 1 100); do
    streaming=$(as_pg "$bin/psql" -h 127.0.0.1 -p "$pport" -U postgres -Atc "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'" postgres)
    [ "$streaming" = 1 ] && break
    sleep 0.1
  done
  [ "$streaming" = 1 ] || { echo "pg-standby: the standby does not stream; see $dir/standby.log" >&2; exit 1; }
  echo "PRIMARY_URL=postgres://postgres@127.0.0.1:$pport/goshop?sslmode=disable"
  echo "REPLICA_URL=postgres://postgres@127.0.0.1:$sport/goshop?sslmode=disable"
  ;;
stop)
  for node in standby primary; do
    [ -d "$dir/$node" ] && as_pg "$bin/pg_ctl" -D "$dir/$node" -m immediate stop >/dev/null 2>&1 || true
  done
  rm -rf "$dir"
  ;;
*) echo "usage: $0 start|stop DIR [PRIMARY_PORT] [STANDBY_PORT]" >&2; exit 2 ;;
esac
