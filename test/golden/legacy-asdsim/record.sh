#!/bin/bash
# Records the legacy-made goldens of this folder with the legacy 4.5.8
# asbackup against asdsim. Run as root from the repository root:
#
#   test/golden/legacy-asdsim/record.sh LEGACY_BIN_DIR
#
# LEGACY_BIN_DIR holds asbackup (built by build-legacy.sh). Everything runs
# in private mount and network namespaces: asdsim listens on 127.0.0.1:3000
# of a loopback of its own, and /dev/null is bind-mounted over a temporary
# file because some legacy error paths unlink their output.
# The key material (key.pem, env-key.txt) is kept when present; delete it
# to generate new keys.
set -euo pipefail
if [ "${1:-}" = "--inside" ]; then
	shift
	legacy=$1 sim=$2 here=$3
	ip link set lo up
	mount --bind "$(mktemp)" /dev/null
	cd "$here"
	B=$legacy/asbackup
	start() {
		"$sim" -port 3000 "$@" >sim.out 2>sim.err &
		SIM=$!
		for _ in $(seq 50); do grep -q listening sim.out 2>/dev/null && return; sleep 0.1; done
		echo "asdsim did not start" >&2; cat sim.err >&2; exit 1
	}
	prep() { rm -rf "$1"; mkdir -p "$1"; cp key.pem env-key.txt "$1/"; }
	# decode FILE ARGS...: the plain text of a backup file written with the
	# asbackup arguments ARGS (state-and-streams.md B), with openssl and zstd
	decode() {
		f=$1; shift
		local bits="" zstd=0 material=""
		case " $* " in *" -z zstd "*) zstd=1 ;; esac
		case " $* " in *" -y aes128 "*) bits=128 ;; *" -y aes256 "*) bits=256 ;; esac
		case " $* " in
		*" --encryption-key-file key.pem "*) material=$(openssl ec -in key.pem -outform DER 2>/dev/null | xxd -p | tr -d '\n') ;;
		*" --encryption-key-env "*) material=$(base64 -d <env-key.txt | xxd -p | tr -d '\n') ;;
		esac
		if [ -n "$bits" ]; then
			key=$(echo -n "$material" | xxd -r -p | sha256sum | cut -c1-$((bits / 4)))
			iv=$(head -c 16 "$f" | openssl enc -d -aes-$bits-ecb -K "$key" -nopad | xxd -p | tr -d '\n')
			ctr=$(python3 -c "print('%032x' % ((int('$iv', 16) + 1) % (1 << 128)))")
			tail -c +17 "$f" | openssl enc -d -aes-$bits-ctr -K "$key" -iv "$ctr"
		else
			cat "$f"
		fi | if [ $zstd = 1 ]; then zstd -dc; else cat; fi
	}
	# plain legacy backups of the kitchen data (case 01's backup loaded into asdsim)
	start -load ../legacy-4.5.8/01-kitchen-file/backup.asb
	once() { # case, then the asbackup arguments
		c=$1; shift
		prep "$c"
		set +e
		(cd "$c" && ASB_ENCRYPTION_KEY=$(cat env-key.txt) "$B" "$@" 2>backup.log)
		rc=$?
		set -e
		printf '%s\n# exit code: %d\n# server: asdsim -load ../legacy-4.5.8/01-kitchen-file/backup.asb (expected.jsonl = that case'"'"'s)\n' \
			"$(echo "$*" | sed 's/^/asbackup /')" "$rc" >"$c/cmd.txt"
		cp ../legacy-4.5.8/01-kitchen-file/expected.jsonl "$c/"
	}
	once 11-kitchen-aes256-keyfile -h 127.0.0.1 -p 3000 -n test -o backup.asb -y aes256 --encryption-key-file key.pem
	once 12-kitchen-zstd-aes128-env -h 127.0.0.1 -p 3000 -n test -o backup.asb -z zstd -y aes128 --encryption-key-env ASB_ENCRYPTION_KEY
	kill "$SIM"; wait "$SIM" || true
	# interrupted backups: 8000 synthetic records, rate-limited, stopped by a signal
	SEED="-seed-records 8000 -record-size 100"
	start $SEED
	stop() { # case, signal, delay, then the asbackup arguments
		c=$1 sig=$2 delay=$3; shift 3
		prep "$c"
		(cd "$c" && ASB_ENCRYPTION_KEY=$(cat env-key.txt) exec "$B" "$@" 2>backup.log) &
		P=$!
		sleep "$delay"
		kill -"$sig" "$P"
		set +e; wait "$P"; rc=$?; set -e
		printf 'asbackup %s\n# SIG%s after %ss\n# exit code: %d\n# server: asdsim %s (set demo)\n' "$*" "$sig" "$delay" "$rc" "$SEED" >"$c/cmd.txt"
		# the legacy tool resumes a copy; what it wrote is summarised
		st=$(grep -o -- '--continue [^ `]*' "$c/backup.log" | head -1 | cut -d' ' -f2)
		tmp=$(mktemp -d)
		cp -a "$c/." "$tmp/"
		set +e
		(cd "$tmp" && ASB_ENCRYPTION_KEY=$(cat env-key.txt) "$B" "$@" --continue "$st" 2>resume.log)
		rc=$?
		set -e
		{
			printf 'asbackup %s --continue %s\n# exit code: %d\n' "$*" "$st" "$rc"
			sed -E 's/^[0-9-]+ [0-9:]+ GMT \[(...)\] \[[0-9]+\]/<TS> [\1] [TID]/' "$tmp/resume.log" | grep -v -E 'complete \(|remaining$'
			echo "# sha256 of the output files after the resume"
			(cd "$tmp" && find . -name '*.asb' | sort | xargs sha256sum)
			echo "# sha256 of their decoded text"
			for f in $(cd "$tmp" && find . -name '*.asb' | sort); do
				echo "$(decode "$tmp/$f" "$@" | sha256sum | cut -d' ' -f1)  $f"
			done
		} >"$c/resume-legacy.txt"
		rm -rf "$tmp"
	}
	stop 21-dir-sigint INT 2 -h 127.0.0.1 -p 3000 -n test -d backup --parallel 2 -L 2000
	stop 22-file-sigterm TERM 2 -h 127.0.0.1 -p 3000 -n test -o backup.asb -L 2000
	stop 23-dir-zstd-aes128-sigint INT 2 -h 127.0.0.1 -p 3000 -n test -d backup -L 2000 -z zstd -y aes128 --encryption-key-env ASB_ENCRYPTION_KEY
	stop 24-file-zstd-aes256-sigterm TERM 2 -h 127.0.0.1 -p 3000 -n test -o backup.asb -L 2000 -z zstd -y aes256 --encryption-key-file key.pem
	kill "$SIM"; wait "$SIM" || true
	rm -f sim.out sim.err
	# logs: timestamps and thread ids normalised as in legacy-4.5.8
	for f in */backup.log; do
		sed -i -E 's/^[0-9-]+ [0-9:]+ GMT \[(...)\] \[[0-9]+\]/<TS> [\1] [TID]/' "$f"
	done
	exit 0
fi
legacy=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/asdsim" ./cmd/asdsim
cd "$here"
[ -f key.pem ] || openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out key.pem
[ -f env-key.txt ] || head -c 32 /dev/urandom | base64 >env-key.txt
unshare -mn bash "$here/record.sh" --inside "$legacy" "$tmp/asdsim" "$here"
