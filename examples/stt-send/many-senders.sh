#!/usr/bin/env bash
# Many senders, one listener: N concurrent `stt-send send` processes (one
# session each, one file each) to one `stt-send listen`, then N sessions
# from one process (`stt-send send --sessions N`, the N files spread one per
# session), each against one session carrying the same bytes alone, in the
# same run. Checks every received file against its original and prints the
# aggregate rates over the single one.
#
#   examples/stt-send/many-senders.sh [SENDERS [MIB_PER_FILE [DIR]]]
#
# Defaults: 100 senders of 8 MiB each; files in DIR (default a fresh
# directory under /dev/shm when it exists, so that the disk is not what is
# measured). Uses the release build (built first). Exit 0 only if every file
# of both runs arrived intact.
set -euo pipefail
cd "$(dirname "$0")/../.."

senders="${1:-100}"
mib="${2:-8}"
base="${3:-$( [[ -d /dev/shm ]] && echo /dev/shm || echo "${TMPDIR:-/tmp}" )}"

cargo build --release --example stt-send >&2
bin="${CARGO_TARGET_DIR:-target}/release/examples/stt-send"

dir="$(mktemp -d "$base/stt-many.XXXXXX")"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$dir"
}
trap cleanup EXIT

seed=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
mkdir -p "$dir/files" "$dir/one-in" "$dir/many-in" "$dir/pooled-in"
head -c $((mib << 20)) /dev/urandom >"$dir/files/data.bin"
# Each sender's file under its own name (symbolic links to the same bytes).
for i in $(seq "$senders"); do ln -s data.bin "$dir/files/f$i.bin"; done
# The single session's file: all the senders' bytes in one.
for _ in $(seq "$senders"); do cat "$dir/files/data.bin"; done >"$dir/files/all.bin"

start_listener() {
    "$bin" listen 127.0.0.1:0 --seed "$seed" --out "$1" >"$2" 2>&1 &
    listener=$!
    pids+=("$listener")
    for _ in $(seq 200); do
        if line="$(grep -m1 -o 'listening on [0-9.:]*' "$2")"; then
            addr="${line#listening on }"
            return 0
        fi
        sleep 0.05
    done
    cat "$2" >&2
    return 1
}

now() { date +%s.%N; }
total=$((senders * mib))
# MiB/s of the whole run between two `now`s.
rate() { echo "$total / ($2 - $1)" | bc -l; }
# How many of the N senders' files arrived in DIR identical to the original.
intact_in() {
    local n=0 i
    for i in $(seq "$senders"); do
        if cmp -s "$dir/files/data.bin" "$1/f$i.bin"; then n=$((n + 1)); fi
    done
    echo "$n"
}

# One session, all the bytes.
start_listener "$dir/one-in" "$dir/one.log"
t0=$(now)
"$bin" send "$addr" "$dir/files/all.bin" --seed "$seed" >"$dir/one-send.log" 2>&1
t1=$(now)
kill "$listener"
cmp -s "$dir/files/all.bin" "$dir/one-in/all.bin" || { echo "single session: file differs" >&2; exit 1; }
rm -f "$dir/one-in/all.bin"
one=$(rate "$t0" "$t1")

# N sessions at once, one file each.
start_listener "$dir/many-in" "$dir/many.log"
t0=$(now)
send_pids=()
for i in $(seq "$senders"); do
    "$bin" send "$addr" "$dir/files/f$i.bin" --seed "$seed" >"$dir/send-$i.log" 2>&1 &
    send_pids+=($!)
done
failed=0
for p in "${send_pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
t1=$(now)
kill "$listener"
intact=$(intact_in "$dir/many-in")
many=$(rate "$t0" "$t1")

# N sessions from one process, one file each.
start_listener "$dir/pooled-in" "$dir/pooled.log"
files=()
for i in $(seq "$senders"); do files+=("$dir/files/f$i.bin"); done
t0=$(now)
pooled_failed=0
"$bin" send "$addr" "${files[@]}" --sessions "$senders" --seed "$seed" \
    >"$dir/pooled-send.log" 2>&1 || pooled_failed=1
t1=$(now)
kill "$listener"
pooled_intact=$(intact_in "$dir/pooled-in")
pooled=$(rate "$t0" "$t1")

printf 'senders=%d mib_per_file=%d total_mib=%d\n' "$senders" "$mib" "$total"
printf 'one_session_mib_s=%.1f\n' "$one"
printf 'many_sessions_mib_s=%.1f senders_failed=%d files_intact=%d/%d\n' \
    "$many" "$failed" "$intact" "$senders"
printf 'many_over_one=%.2f\n' "$(echo "$many / $one" | bc -l)"
printf 'one_process_sessions_mib_s=%.1f failed=%d files_intact=%d/%d\n' \
    "$pooled" "$pooled_failed" "$pooled_intact" "$senders"
printf 'one_process_over_one=%.2f\n' "$(echo "$pooled / $one" | bc -l)"
[[ $failed -eq 0 && $intact -eq $senders && $pooled_failed -eq 0 && $pooled_intact -eq $senders ]]
