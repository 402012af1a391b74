#!/usr/bin/env bash
# Start a throwaway PostgreSQL on loopback for the storage tests; prints its URL.
set -euo pipefail
port=${PGPORT_TALON:-$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")}
dir=$(mktemp -d /tmp/talon-pg.XXXXXX)
chown postgres:postgres "$dir"
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
runuser -u postgres -- "$bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" -l "$dir/log" -w start >/dev/null
runuser -u postgres -- "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -c "CREATE DATABASE talon_test" >/dev/null
echo "postgresql+psycopg://postgres@127.0.0.1:$port/talon_test"
