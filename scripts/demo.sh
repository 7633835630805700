#!/usr/bin/env bash
# Demo: start the built-in test server with sample data, back up namespace
# "test" with asbackup, restore it into namespace "bar" with asrestore, and
# show that "bar" now holds the same records. Then the same round trip
# through S3 (a local MinIO, built once into the user's cache like for the
# tests): back up to s3://demo/backup, restore into namespace "s3", and
# browse the S3 backup with asbfs. Run through `make demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/asbtools-demo.XXXXXX")
SERVER_PID=
S3_PID=
FS_PID=
cleanup() {
	if [ -n "$FS_PID" ]; then
		kill "$FS_PID" 2>/dev/null && wait "$FS_PID" 2>/dev/null
	fi
	if [ -n "$S3_PID" ]; then
		kill "$S3_PID" 2>/dev/null && wait "$S3_PID" 2>/dev/null
	fi
	if [ -n "$SERVER_PID" ]; then
		kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Starting the test server (asdsim) with the kitchen sample and 20000 synthetic records"
"$BIN/asdsim" -port 0 -namespaces test,bar,s3 \
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

step "S3: starting a local MinIO with the bucket demo"
GO=${GO:-go}
if ! "$GO" build -o "$WORK/s3serve" ./internal/miniotest/serve 2>"$WORK/s3serve.err"; then
	cat "$WORK/s3serve.err"
	echo "demo: skipping the S3 part: the MinIO helper cannot be built here"
	exit 0
fi
echo "(the first run builds MinIO with go install, which takes a few minutes)"
"$WORK/s3serve" -buckets demo >"$WORK/s3.out" 2>"$WORK/s3.err" &
S3_PID=$!
while ! grep -q '^ready$' "$WORK/s3.out" 2>/dev/null; do
	if ! kill -0 "$S3_PID" 2>/dev/null; then
		rc=0
		wait "$S3_PID" || rc=$?
		S3_PID=
		tail -n 5 "$WORK/s3.err"
		if [ "$rc" = 3 ]; then
			echo "demo: skipping the S3 part: MinIO is not built and cannot be built here"
			exit 0
		fi
		echo "demo: MinIO did not start" >&2
		exit 1
	fi
	sleep 0.2
done
ENDPOINT=$(sed -n 's/^endpoint //p' "$WORK/s3.out")
while read -r kv; do export "${kv?}"; done < <(sed -n 's/^env //p' "$WORK/s3.out")
echo "MinIO listening on $ENDPOINT"

step "asbackup -h $HOST -p $PORT -n test -d s3://demo/backup --s3-endpoint-override $ENDPOINT --parallel 4 -z zstd"
"$BIN/asbackup" -h "$HOST" -p "$PORT" -n test -d s3://demo/backup --s3-endpoint-override "$ENDPOINT" --parallel 4 -z zstd

step "asrestore -h $HOST -p $PORT -n test,s3 -d s3://demo/backup --s3-endpoint-override $ENDPOINT -z zstd  (into namespace s3)"
"$BIN/asrestore" -h "$HOST" -p "$PORT" -n test,s3 -d s3://demo/backup --s3-endpoint-override "$ENDPOINT" -z zstd

step "Checking: back up s3 and compare its records with the backup of test"
"$BIN/asbackup" -h "$HOST" -p "$PORT" -n s3 -o "$WORK/s3.asb" 2>/dev/null
digests "$WORK/s3.asb" >"$WORK/s3.digests"
echo "records restored from S3 into s3: $(wc -l <"$WORK/s3.digests")"
if cmp -s "$WORK/test.digests" "$WORK/s3.digests"; then
	echo "the same records (by digest) as in the backup of test: OK"
else
	echo "demo: the records restored from S3 differ from the backup" >&2
	exit 1
fi

step "asbfs --s3-endpoint-override $ENDPOINT -z zstd s3://demo/backup mnt  (browse the S3 backup)"
if [ ! -e /dev/fuse ] || { [ "$(id -u)" != 0 ] && ! command -v fusermount3 >/dev/null; }; then
	echo "demo: skipping asbfs: FUSE is not available here (/dev/fuse, or fusermount3 when not root)"
	exit 0
fi
mkdir "$WORK/mnt"
"$BIN/asbfs" --s3-endpoint-override "$ENDPOINT" -z zstd s3://demo/backup "$WORK/mnt" 2>"$WORK/asbfs.err" &
FS_PID=$!
for _ in $(seq 300); do
	[ -d "$WORK/mnt/test" ] && break
	kill -0 "$FS_PID" 2>/dev/null || break
	sleep 0.1
done
if [ ! -d "$WORK/mnt/test" ]; then
	cat "$WORK/asbfs.err"
	echo "demo: skipping asbfs: the mount did not come up here"
	FS_PID=
	exit 0
fi
echo "\$ ls mnt/test"
ls "$WORK/mnt/test"
echo "\$ cat mnt/test/%stats.json | head -n 8"
head -n 8 "$WORK/mnt/test/%stats.json"
SET=demo
REC=$(ls "$WORK/mnt/test/$SET" | sed -n 1p)
echo "\$ cat mnt/test/$SET/$REC"
cat "$WORK/mnt/test/$SET/$REC"
echo
n_fs=$(cat "$WORK"/mnt/test/%jsonl/*.jsonl | wc -l)
echo "records shown by asbfs: $n_fs"
if [ "$n_fs" != "$n_test" ]; then
	echo "demo: asbfs shows $n_fs records, the backup holds $n_test" >&2
	exit 1
fi
kill "$FS_PID"
wait "$FS_PID" || true
FS_PID=
echo "asbfs unmounted"
