#!/usr/bin/env bash
# stt-send between two processes against the in-memory pair, interleaved:
# each round runs `pair` (same cipher: ChaCha20-Poly1305, stt-send's
# default) and then one `stt-send send` of the same bytes to a
# `stt-send listen --once`, and prints both goodputs, their ratio, and the
# CPU seconds (user+system) of the sender and of the listener.
#
#   examples/stt-send/vs-pair.sh [ROUNDS [MIB [DIR]]]
#
# Defaults: 3 rounds of 1024 MiB; the file and the received copy in DIR
# (default a fresh directory under /dev/shm when it exists, so that the
# disk is not what is measured). Uses the release builds (built first).
# Exit 0 only if every received file is identical to the one sent.
#
# On a machine shared with other work, compare ratios within one run only.
# Where `kernel.sched_autogroup_enabled` is 1, another session's `nice`
# does not yield the CPU to this one: see docs/ADAPTERS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

rounds="${1:-3}"
mib="${2:-1024}"
base="${3:-$( [[ -d /dev/shm ]] && echo /dev/shm || echo "${TMPDIR:-/tmp}" )}"

cargo build --release --example stt-send --example pair >&2
dir_bin="${CARGO_TARGET_DIR:-target}/release/examples"

dir="$(mktemp -d "$base/stt-vs-pair.XXXXXX")"
listener=""
cleanup() {
    [[ -n "$listener" ]] && kill "$listener" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT

seed=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
mkdir -p "$dir/in"
head -c $((mib << 20)) /dev/urandom >"$dir/data.bin"
bytes=$((mib << 20))

ok=0
for round in $(seq "$rounds"); do
    pair=$("$dir_bin/pair" --bytes "$bytes" --no-aead | grep -o '^wall_goodput_mib_s=[0-9.]*')
    pair=${pair#*=}
    rm -f "$dir/in/"* "$dir/l.log"
    /usr/bin/env time -f "%U %S" -o "$dir/l.time" \
        "$dir_bin/stt-send" listen 127.0.0.1:0 --seed "$seed" --out "$dir/in" --once \
        >"$dir/l.log" 2>&1 &
    listener=$!
    addr=""
    for _ in $(seq 200); do
        if line="$(grep -m1 -o 'listening on [0-9.:]*' "$dir/l.log")"; then
            addr="${line#listening on }"
            break
        fi
        sleep 0.05
    done
    [[ -n "$addr" ]] || { cat "$dir/l.log" >&2; exit 1; }
    /usr/bin/env time -f "%U %S" -o "$dir/s.time" \
        "$dir_bin/stt-send" send "$addr" "$dir/data.bin" --seed "$seed" >"$dir/s.log" 2>&1
    wait "$listener"
    listener=""
    rate=$(grep -o 'MiB in [0-9.]* s: [0-9.]* MiB/s' "$dir/s.log" | awk '{print $5}')
    cpu() { awk 'END {printf "%.2f", $1 + $2}' "$1"; }
    intact=no
    if cmp -s "$dir/data.bin" "$dir/in/data.bin"; then intact=yes; ok=$((ok + 1)); fi
    printf 'round=%d pair_wall_mib_s=%s stt_send_mib_s=%s ratio=%.2f sender_cpu_s=%s listener_cpu_s=%s intact=%s\n' \
        "$round" "$pair" "$rate" "$(echo "$rate / $pair" | bc -l)" \
        "$(cpu "$dir/s.time")" "$(cpu "$dir/l.time")" "$intact"
done
[[ $ok -eq $rounds ]]
