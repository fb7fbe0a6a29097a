#!/usr/bin/env bash
# pg-cluster.sh: a throwaway PostgreSQL cluster for tests, in a directory of its own.
#
#   scripts/pg-cluster.sh start DIR   initdb in DIR/data, start the server, create the database
#                                     `consentry`, write the connection URL to DIR/url and print it
#   scripts/pg-cluster.sh start DIR --durable
#                                     the same with fsync on, for benchmarks (bench/run.sh)
#   scripts/pg-cluster.sh env DIR     print shell `export` lines for the running cluster
#                                     (CONSENTRY_PG_URL, and PGHOST/PGUSER/PGDATABASE for psql)
#   scripts/pg-cluster.sh stop DIR    stop the server and remove DIR; safe to call twice, on a
#                                     half-started cluster, and on a DIR that does not exist
#
# The server listens on a Unix socket in DIR/socket only (listen_addresses = ''), never on TCP,
# and the socket directory is 0700: only the cluster's OS user (and root) can connect. Inside,
# the bootstrap superuser is `consentry` with `trust` authentication on that socket. fsync is off
# (unless --durable): the cluster is for tests and is thrown away, a power loss loses nothing
# worth keeping. --durable keeps PostgreSQL's default, fsync on, so that commits cost what they
# cost on a real server.
#
# PostgreSQL refuses to run as root. Run as root, the script creates (or reuses) the system user
# `consentry-pg`, gives it DIR, and runs initdb/pg_ctl through `runuser -u consentry-pg --`; DIR's
# parent directories must then be searchable by that user. Run as anyone else, it runs as them.
#
# `start` on a DIR that already holds a cluster of this script stops and removes it first (a
# cluster left by a killed test run); it refuses a DIR that exists, is not empty and is not one
# of its own. PG_BINDIR overrides where the server binaries are (/usr/lib/postgresql/15/bin).
set -euo pipefail

readonly kMarker=.consentry-pg-cluster
readonly kUser=consentry-pg
readonly kDatabase=consentry
readonly kRole=consentry
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}

die() {
  echo "pg-cluster.sh: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 start DIR [--durable] | stop DIR | env DIR" >&2
  exit 2
}

# as_owner runs a command as the cluster's OS user: consentry-pg when we are root, else us.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u "$kUser" -- "$@"
  else
    "$@"
  fi
}

# ensure_user creates the system user consentry-pg when it does not exist (root only). Two
# starts racing may both try: the loser's useradd fails, and the user then exists.
ensure_user() {
  [[ $(id -u) -eq 0 ]] || return 0
  id -u "$kUser" >/dev/null 2>&1 && return 0
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$kUser" 2>/dev/null ||
    id -u "$kUser" >/dev/null 2>&1 || die "cannot create the system user $kUser"
}

# url_encode percent-encodes a path for a URL's query value.
url_encode() {
  local s=$1 out='' c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
      [A-Za-z0-9/._~-]) out+=$c ;;
      *) out+=$(printf '%%%02X' "'$c") ;;
    esac
  done
  printf '%s' "$out"
}

url_of() {
  printf 'postgresql:///%s?host=%s&user=%s' "$kDatabase" "$(url_encode "$1/socket")" "$kRole"
}

# stop_cluster stops the server of DIR if one runs, then removes DIR. It works on whatever a
# failed start left: no data directory, a data directory without a server, a server whose
# pg_ctl stop fails (then the postmaster's pid from postmaster.pid gets SIGQUIT, then SIGKILL).
stop_cluster() {
  local dir=$1
  [[ -e $dir ]] || return 0
  [[ -d $dir ]] || die "$dir is not a directory"
  if [[ ! -e $dir/$kMarker ]]; then
    # Not ours: remove nothing, unless it is an empty directory.
    rmdir "$dir" 2>/dev/null || die "$dir is not a cluster made by this script; not removing it"
    return 0
  fi
  local data=$dir/data
  if [[ -f $data/postmaster.pid ]]; then
    if ! as_owner "$PG_BINDIR/pg_ctl" stop -D "$data" -m fast -w -t 30 >/dev/null 2>&1; then
      local pid
      pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)
      # Only a postmaster of this data directory: a stale pid may have been reused since.
      if [[ $pid =~ ^[0-9]+$ ]] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$data"; then
        kill -QUIT "$pid" 2>/dev/null || true
        for _ in 1 2 3 4 5 6 7 8 9 10; do
          kill -0 "$pid" 2>/dev/null || break
          sleep 0.5
        done
        kill -KILL "$pid" 2>/dev/null || true
      fi
    fi
  fi
  rm -rf -- "$dir"
}

start_cluster() {
  local dir=$1 fsync=off
  [[ ${2:-} == --durable ]] && fsync=on
  if [[ -e $dir/$kMarker ]]; then
    stop_cluster "$dir"
  elif [[ -e $dir ]]; then
    [[ -d $dir && -z $(ls -A "$dir") ]] || die "$dir exists and is not empty; give a new or empty directory"
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  : >"$dir/$kMarker"
  local socket=$dir/socket data=$dir/data log=$dir/postgres.log
  # A Unix socket path is at most 107 bytes; the server's is socket/.s.PGSQL.5432.
  ((${#socket} + 15 <= 107)) || die "$dir is too long a path for a Unix socket; use a shorter one"
  [[ -x $PG_BINDIR/initdb ]] || die "no PostgreSQL server in $PG_BINDIR (Debian: apt-get install postgresql)"

  mkdir -m 0700 "$socket"
  chmod 0700 "$dir"
  if [[ $(id -u) -eq 0 ]]; then
    ensure_user
    chown -R "$kUser:" "$dir"
    as_owner test -w "$dir" ||
      die "$kUser cannot reach $dir: its parent directories must be searchable (o+x) by $kUser"
  fi

  as_owner "$PG_BINDIR/initdb" -D "$data" -U "$kRole" --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
    --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    die "initdb failed (the directory stays for a look; stop removes it)"
  }
  as_owner tee -a "$data/postgresql.conf" >/dev/null <<EOF

# pg-cluster.sh: a throwaway test cluster, on a Unix socket only.
listen_addresses = ''
unix_socket_directories = '$socket'
unix_socket_permissions = 0700
fsync = $fsync
max_connections = 100
EOF
  as_owner "$PG_BINDIR/pg_ctl" start -D "$data" -l "$log" -w -t 60 >/dev/null || {
    cat "$log" >&2 2>/dev/null || true
    die "the server did not start (see $log; stop removes the directory)"
  }
  as_owner "$PG_BINDIR/createdb" -h "$socket" -U "$kRole" "$kDatabase" ||
    die "createdb $kDatabase failed"
  local url
  url=$(url_of "$dir")
  as_owner tee "$dir/url" >/dev/null <<<"$url"
  echo "$url"
}

env_cluster() {
  local dir=$1
  [[ -f $dir/url ]] || die "no cluster started in $dir"
  dir=$(cd "$dir" && pwd)
  printf "export CONSENTRY_PG_URL='%s'\n" "$(cat "$dir/url")"
  printf "export PGHOST='%s' PGUSER='%s' PGDATABASE='%s'\n" "$dir/socket" "$kRole" "$kDatabase"
}

[[ ($# -eq 2 || ($# -eq 3 && $1 == start && $3 == --durable)) && -n $2 ]] || usage
case $1 in
  start) start_cluster "$2" "${3:-}" ;;
  stop) stop_cluster "$2" ;;
  env) env_cluster "$2" ;;
  *) usage ;;
esac
