#!/usr/bin/env bash
# The whole suite: once on the embedded default (SQLite + DuckDB), then the metadata suite
# again on a real PostgreSQL started here on loopback (and stopped afterwards): the tests that
# use the metadata database fixture (marked `metadata` by tests/conftest.py); the others run
# no differently there. Tests that need PostgreSQL for more than metadata start their own in
# the first pass (tests/throwaway_postgres.py).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

echo "== suite on SQLite + DuckDB"
$PY -m pytest -q "$@"

if [ -n "${HEDGEROW_SKIP_POSTGRES:-}" ]; then exit 0; fi
echo "== metadata suite on PostgreSQL"
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
PG_DIR=$(mktemp -d /tmp/hedgerow-pg.XXXXXX)
PG_PORT=$($PY -c 'from hedgerow.testing import free_port; print(free_port())')
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres "$PG_DIR"
as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
  -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
trap 'as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$PG_DIR"' EXIT
HEDGEROW_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$PG_PORT/postgres" \
  $PY -m pytest -q -m "metadata and not e2e and not browser" tests/api tests/unit/store "$@"
