#!/usr/bin/env bash
# Demo: start the built-in test server with sample data, back up namespace
# "test" with asbackup, restore it into namespace "bar" with asrestore, and
# show that "bar" now holds the same records. Run through `make demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/asbtools-demo.XXXXXX")
SERVER_PID=
cleanup() {
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Starting the test server (asdsim) with the kitchen sample and 20000 synthetic records"
"$BIN/asdsim" -port 0 -namespaces test,bar \
	-load test/golden/legacy-4.5.8/01-kitchen-file/backup.asb \
	-seed-records 20000 -seed-set demo >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 100); do
	grep -q '^listening ' "$WORK/server.out" 2>/dev/null && break
	kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.err"; exit 1; }
	sleep 0.1
done
ADDR=$(sed -n 's/^listening //p' "$WORK/server.out" | head -1)
[ -n "$ADDR" ] || { echo "demo: the server did not start" >&2; cat "$WORK/server.err" >&2; exit 1; }
HOST=${ADDR%:*}
PORT=${ADDR##*:}
cat "$WORK/server.err"
echo "server listening on $HOST:$PORT"

step "asbackup -h $HOST -p $PORT -n test -d backup --parallel 4"
"$BIN/asbackup" -h "$HOST" -p "$PORT" -n test -d "$WORK/backup" --parallel 4
ls -l "$WORK/backup"

step "The first lines of the backup"
head -n 12 "$WORK/backup/test_00000.asb" | cut -c1-100

step "asrestore -h $HOST -p $PORT -n test,bar -d backup  (restore into namespace bar)"
"$BIN/asrestore" -h "$HOST" -p "$PORT" -n test,bar -d "$WORK/backup"

step "Checking: back up bar and compare its records with the backup of test"
"$BIN/asbackup" -h "$HOST" -p "$PORT" -n bar -o "$WORK/bar.asb" 2>/dev/null
digests() { grep -ah '^+ d ' "$@" | sort; }
digests "$WORK"/backup/*.asb >"$WORK/test.digests"
digests "$WORK/bar.asb" >"$WORK/bar.digests"
n_test=$(wc -l <"$WORK/test.digests")
n_bar=$(wc -l <"$WORK/bar.digests")
echo "records in the backup of test: $n_test"
echo "records restored into bar:     $n_bar"
if cmp -s "$WORK/test.digests" "$WORK/bar.digests"; then
	echo "the same records (by digest) are in both: OK"
else
	echo "demo: the restored records differ from the backup" >&2
	exit 1
fi
