#!/usr/bin/env bash
# A recovery rehearsal (docs/operations.md, "Rehearse a recovery"), on a throwaway PostgreSQL cluster of its own:
#
#   1. a primary with WAL archiving (archive_timeout 60 s), migrated and seeded with the demo;
#   2. a base backup (pg_basebackup) and, beside it, a logical backup (flask backup create);
#   3. writes through the application every 5 s for a while, then the primary dies (pg_ctl stop -m immediate);
#   4. point-in-time recovery from the base backup and the archive, timed (RTO), and what was lost (RPO): the time
#      between the last write made and the last write recovered; with STREAM=1, pg_receivewal also streamed the WAL
#      and its partial segment is recovered too;
#   5. flask audit verify on the recovered database; flask backup restore of the logical backup, timed.
#
# Needs the PostgreSQL server binaries (Debian: postgresql-15), an OS user to run them (initdb refuses root) and the
# project's .venv. Touches nothing but $WORK and the port $PORT (and $PORT+1). Usage:
#   scripts/recovery_drill.sh                  # the documented setup: archive_command, archive_timeout = 60 s
#   STREAM=1 scripts/recovery_drill.sh         # with pg_receivewal streaming the WAL as well
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
WORK=${WORK:-/tmp/gialam-recovery-drill}
PORT=${PORT:-55432}
RUNAS=${RUNAS:-postgres}
WRITE_SECONDS=${WRITE_SECONDS:-150}
STREAM=${STREAM:-0}
FLASK="$ROOT/.venv/bin/flask"
export FLASK_APP="$ROOT/wsgi.py" APP_ENV=development UPLOAD_DIR="$WORK/uploads"

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u "$RUNAS" -- "$@"; else "$@"; fi; }
now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.1f}')"; }
say() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*"; }

cleanup() {
  for dir in primary recovered; do
    [ -f "$WORK/$dir/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$WORK/$dir" -m immediate stop >/dev/null 2>&1 || true
  done
  [ -n "${RECEIVER:-}" ] && kill "$RECEIVER" 2>/dev/null || true
  [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT

rm -rf "$WORK" && mkdir -p "$WORK/wal" "$WORK/stream" && chown -R "$RUNAS" "$WORK" 2>/dev/null || true
say "initdb and start the primary on port $PORT (WAL archived to $WORK/wal)"
as_pg "$PGBIN/initdb" -D "$WORK/primary" -U postgres --auth=trust >/dev/null
cat >> "$WORK/primary/postgresql.conf" <<CONF
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$WORK'
wal_level = replica
archive_mode = on
archive_command = 'test ! -f $WORK/wal/%f && cp %p $WORK/wal/%f'
archive_timeout = 60
max_wal_senders = 4
CONF
as_pg "$PGBIN/pg_ctl" -D "$WORK/primary" -l "$WORK/primary.log" -w start >/dev/null
URL="postgresql://postgres@127.0.0.1:$PORT/gialam"
as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres gialam

say "migrate and seed the demo"
T0=$(now)
DATABASE_URL=$URL "$FLASK" db upgrade >/dev/null 2>&1
DATABASE_URL=$URL "$FLASK" seed-demo >/dev/null
say "  seeded in $(elapsed "$T0" "$(now)") s; database size $(psql -h 127.0.0.1 -p "$PORT" -U postgres -Atc "SELECT pg_size_pretty(pg_database_size('gialam'))")"

if [ "$STREAM" = 1 ]; then
  as_pg "$PGBIN/pg_receivewal" -h 127.0.0.1 -p "$PORT" -U postgres -D "$WORK/stream" --no-loop --synchronous &
  RECEIVER=$!
  say "pg_receivewal streams the WAL to $WORK/stream"
fi

say "base backup (pg_basebackup, compressed tar, WAL included)"
T0=$(now)
as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$PORT" -U postgres -D "$WORK/base" -Ft -z -X stream -c fast
BASE_SECONDS=$(elapsed "$T0" "$(now)")
say "  base backup in $BASE_SECONDS s, $(du -sh "$WORK/base" | cut -f1)"

say "logical backup (flask backup create)"
T0=$(now)
DATABASE_URL=$URL "$FLASK" backup create "$WORK/logical" >/dev/null
LOGICAL_SECONDS=$(elapsed "$T0" "$(now)")
say "  logical backup in $LOGICAL_SECONDS s, $(du -sh "$WORK/logical" | cut -f1)"

say "writes through the application every 5 s for $WRITE_SECONDS s (flask tenants create)"
END=$(( $(date +%s) + WRITE_SECONDS ))
n=0
: > "$WORK/writes"
while [ "$(date +%s)" -lt "$END" ]; do
  n=$((n + 1))
  DATABASE_URL=$URL "$FLASK" tenants create "Drill $n" --code "$(printf '99%03d' "$n")" --slug "drill-$n" >/dev/null
  printf '%s %s\n' "$n" "$(now)" >> "$WORK/writes"
  sleep 5
done
LAST_WRITE=$(tail -1 "$WORK/writes" | cut -d' ' -f2)
as_pg "$PGBIN/pg_ctl" -D "$WORK/primary" -m immediate stop >/dev/null
CRASH=$(now)
say "the primary died right after write no. $n"
if [ "$STREAM" = 1 ]; then
  sleep 1; kill "$RECEIVER" 2>/dev/null || true; RECEIVER=
  for partial in "$WORK"/stream/*.partial; do
    [ -e "$partial" ] && cp "$partial" "$WORK/wal/$(basename "$partial" .partial)"
  done
fi

say "point-in-time recovery: the base backup, then the archived WAL"
T0=$(now)
mkdir -p "$WORK/recovered" && chown "$RUNAS" "$WORK/recovered" 2>/dev/null || true
chmod 700 "$WORK/recovered"
as_pg tar -xzf "$WORK/base/base.tar.gz" -C "$WORK/recovered"
as_pg tar -xzf "$WORK/base/pg_wal.tar.gz" -C "$WORK/recovered/pg_wal"
cat >> "$WORK/recovered/postgresql.conf" <<CONF
port = $((PORT + 1))
archive_mode = off
restore_command = 'cp $WORK/wal/%f %p'
recovery_target_action = 'promote'
CONF
as_pg touch "$WORK/recovered/recovery.signal"
as_pg "$PGBIN/pg_ctl" -D "$WORK/recovered" -l "$WORK/recovered.log" -w -t 600 start >/dev/null
until [ "$(psql -h 127.0.0.1 -p $((PORT + 1)) -U postgres -Atc 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ]; do
  sleep 0.2
done
RTO=$(elapsed "$T0" "$(now)")
RECOVERED_URL="postgresql://postgres@127.0.0.1:$((PORT + 1))/gialam"
RECOVERED=$(psql -h 127.0.0.1 -p $((PORT + 1)) -U postgres -d gialam -Atc \
  "SELECT coalesce(max(substring(slug from 7)::int), 0) FROM tenants WHERE slug LIKE 'drill-%'")
RECOVERED_AT=$(awk -v n="$RECOVERED" '$1 == n {print $2}' "$WORK/writes")
RPO=$(python3 -c "print(f'{$LAST_WRITE - ${RECOVERED_AT:-$LAST_WRITE}:.1f}' if '$RECOVERED' != '0' else 'all writes lost')")
say "  recovered and promoted in $RTO s: writes 1..$RECOVERED of $n are there"

say "flask audit verify on the recovered database"
DATABASE_URL=$RECOVERED_URL "$FLASK" audit verify | tail -1

say "flask backup restore of the logical backup into a new database"
as_pg "$PGBIN/createdb" -h 127.0.0.1 -p $((PORT + 1)) -U postgres gialam_logical
T0=$(now)
DATABASE_URL="postgresql://postgres@127.0.0.1:$((PORT + 1))/gialam_logical" UPLOAD_DIR="$WORK/restored-uploads" \
  "$FLASK" backup restore "$WORK/logical" | grep -v "^  " | tail -3
LOGICAL_RTO=$(elapsed "$T0" "$(now)")

echo
echo "Figures (STREAM=$STREAM, archive_timeout = 60 s):"
echo "  base backup                  $BASE_SECONDS s"
echo "  point-in-time recovery (RTO) $RTO s"
echo "  data lost at the crash (RPO) $RPO s  (the last recovered write was no. $RECOVERED of $n)"
echo "  logical backup               $LOGICAL_SECONDS s"
echo "  logical restore + checks     $LOGICAL_RTO s"
