#!/usr/bin/env bash
# Records the output of the legacy tools for the cases of a CLI transcript
# directory (its cases.tsv: id, tool, args, exit code), in the layout of
# test/golden/cli: <id>.stdout and <id>.stderr, timestamps and thread ids
# normalized. Each case runs in a fresh directory holding a copy of
# test/golden/cli/files and an empty empty-dir/, against the test server
# (asdsim) on 127.0.0.1:3000, with only stdin, stdout and stderr open.
#
#   LEGACY_BIN=<dir of legacy asbackup/asrestore 4.5.8> \
#       flock <the test lock> scripts/record-legacy-cli.sh test/golden/cli-extra
#
# As root the tools run in a private mount namespace with /dev/null
# bind-mounted over a scratch file: some legacy error paths unlink their
# output, /dev/null included. The script checks each exit code against
# cases.tsv and stops at the first mismatch.
set -euo pipefail
dir=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
: "${LEGACY_BIN:?set LEGACY_BIN to the directory of the legacy binaries}"
tmp=$(mktemp -d)
trap 'kill "$sim" 2>/dev/null || true; rm -rf "$tmp"' EXIT
(cd "$root" && go build -o "$tmp/asdsim" ./cmd/asdsim)
"$tmp/asdsim" -port 3000 >"$tmp/asdsim.log" 2>&1 &
sim=$!
sleep 1
norm() {
	sed -E -e 's/^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT \[([A-Z]+)\] \[ *[0-9]+\] /<TS> [\1] [TID] /' \
		-e "s#$1#\$TMP#g"
}
tail -n +2 "$dir/cases.tsv" | while IFS=$'\t' read -r id tool args want; do
	work="$tmp/case-$id"
	mkdir -p "$work/empty-dir"
	cp -r "$root/test/golden/cli/files" "$work/files"
	run="cd '$work' && exec $tool $args"
	if [ "$(id -u)" = 0 ]; then
		run="mount --bind \"\$(mktemp)\" /dev/null && $run"
		cmd=(unshare -m bash -c "$run")
	else
		cmd=(bash -c "$run")
	fi
	set +e
	env -i PATH="$LEGACY_BIN:/usr/bin:/bin" TZ=UTC HOME="$work" \
		ASB_TEST_KEY=MDEyMzQ1Njc4OWFiY2RlZg== ASB_BAD_KEY='not base64!' \
		bash -c 'for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; exec "$@"' _ "${cmd[@]}" \
		</dev/null >"$tmp/out" 2>"$tmp/err"
	code=$?
	set -e
	norm <"$tmp/out" "$work" >"$dir/$id.stdout"
	norm <"$tmp/err" "$work" >"$dir/$id.stderr"
	echo "$id: exit $code"
	if [ "$code" != "$want" ]; then
		echo "$id: exit $code, cases.tsv says $want" >&2
		exit 1
	fi
done
