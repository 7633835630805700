#!/bin/bash
# Records which compressed files of this asbackup legacy 4.5.8 asrestore
# reads. Run as root from the repository root:
#
#   test/golden/legacy-reads-ours/record.sh LEGACY_BIN_DIR
#
# LEGACY_BIN_DIR holds asrestore (built by build-legacy.sh). asbackup and
# asdsim are built from this tree. Everything runs in private mount and
# network namespaces: the servers listen on a loopback of their own, and
# /dev/null is bind-mounted over a temporary file because some legacy error
# paths unlink their output.
#
# For one level of each encoder (fastest, default, better, best: the level
# table of docs/compat.md), asbackup writes `-o level-L.asb -z zstd` (600
# `asdsim -seed-kind people` records, no in-run checkpoint, so one frame and
# the same bytes at every run), plus one zstd+AES-256 file; legacy
# asrestore restores each into an empty asdsim. legacy-restore.txt holds its
# exit code and summary line for each file.
set -euo pipefail
LEVELS="1 3 5 7"
SEED="-seed-records 600 -seed-kind people"
if [ "${1:-}" = "--inside" ]; then
	shift
	legacy=$1 bin=$2 here=$3
	ip link set lo up
	mount --bind "$(mktemp)" /dev/null
	cd "$here"
	start() { # port, asdsim arguments
		local port=$1; shift
		"$bin/asdsim" -port "$port" -namespaces test "$@" >"sim$port.out" 2>&1 &
		SIM=$!
		for _ in $(seq 50); do grep -q listening "sim$port.out" 2>/dev/null && return; sleep 0.1; done
		echo "asdsim did not start" >&2; cat "sim$port.out" >&2; exit 1
	}
	export ASB_ENCRYPTION_KEY ASBACKUP_CHECKPOINT_MS=-1
	ASB_ENCRYPTION_KEY=$(cat env-key.txt)
	start 3000 $SEED
	SRC=$SIM
	for l in $LEVELS; do
		rm -f "level-$l.asb"
		"$bin/asbackup" -h 127.0.0.1 -p 3000 -n test -o "level-$l.asb" -z zstd --compression-level "$l" 2>/dev/null
	done
	rm -f zstd-aes256.asb
	"$bin/asbackup" -h 127.0.0.1 -p 3000 -n test -o zstd-aes256.asb -z zstd -y aes256 --encryption-key-env ASB_ENCRYPTION_KEY 2>/dev/null
	kill "$SRC"; wait "$SRC" || true
	{
		echo "# legacy 4.5.8 asrestore of each file into an empty asdsim: file, exit code, summary"
		echo "# files written by: asbackup -n test -o FILE -z zstd [--compression-level L | -y aes256 --encryption-key-env ASB_ENCRYPTION_KEY] against asdsim $SEED"
		for f in $(for l in $LEVELS; do echo "level-$l.asb"; done) zstd-aes256.asb; do
			start 3100
			args="-z zstd"
			[ "$f" = zstd-aes256.asb ] && args="-z zstd -y aes256 --encryption-key-env ASB_ENCRYPTION_KEY"
			set +e
			out=$("$legacy/asrestore" -h 127.0.0.1 -p 3100 -i "$f" $args 2>&1)
			rc=$?
			set -e
			echo "$f $rc $(echo "$out" | grep -o 'Expired .*' | tail -1)"
			kill "$SIM"; wait "$SIM" || true
		done
	} >legacy-restore.txt
	rm -f sim*.out
	exit 0
fi
legacy=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/asdsim" ./cmd/asdsim
go build -o "$tmp/asbackup" ./cmd/asbackup
cd "$here"
[ -f env-key.txt ] || head -c 32 /dev/urandom | base64 >env-key.txt
unshare -mn bash "$here/record.sh" --inside "$legacy" "$tmp" "$here"
