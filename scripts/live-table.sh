#!/usr/bin/env bash
# The "Live media" tables of docs/PERFORMANCE.md: 30 frames a second of
# 25,000 bytes, due 150 ms after production, over 20 Mbit/s, 60 ms RTT, a
# one-BDP queue, 30 s of virtual time, seeds 1 and 2; random loss 1/5/10 %,
# then the link dropping to 4 Mbit/s from 10 s to 15 s. Prints markdown
# rows. The simulator is deterministic: the same build prints the same rows.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --features sim --example simulate >&2
sim=target/release/examples/simulate
base=(--workload live --rate-mbit 20 --rtt-ms 60 --queue-bdp 1 --seconds 30)

# Reads `key=value` pairs from the lines of one run.
field() { grep -o "$1=[^ ]*" | head -1 | cut -d= -f2; }

echo "| mode | loss | on time (seed 1 / 2) | late | delivered late | expired | delay p50 / p99, ms |"
echo "|---|---|---|---|---|---|---|"
for mode in deadline reliable adaptive; do
    for loss in 1% 5% 10%; do
        row=()
        for seed in 1 2; do
            out=$("$sim" "${base[@]}" --live-mode "$mode" --loss "$loss" --seed "$seed")
            row+=("$(field on_time_fraction <<<"$out")" "$(field late <<<"$out")" \
                "$(field delivered_late <<<"$out")" "$(field expired <<<"$out")" \
                "$(field p50 <<<"$out")" "$(field p99 <<<"$out")")
        done
        echo "| $mode | $loss | ${row[0]} / ${row[6]} | ${row[1]} / ${row[7]} | ${row[2]} / ${row[8]} | ${row[3]} / ${row[9]} | ${row[4]} / ${row[5]}, ${row[10]} / ${row[11]} |"
    done
done
echo
echo "| mode (20 -> 4 Mbit/s from 10 s to 15 s) | on time, whole run | on time in the drop | on-time bytes / 4 Mbit/s | back to >= 0.99 on time after, ms | max lateness, ms | source Mbit/s |"
echo "|---|---|---|---|---|---|---|"
for mode in deadline reliable adaptive; do
    row=()
    for seed in 1 2; do
        out=$("$sim" "${base[@]}" --live-mode "$mode" --rate-schedule 4@10,20@15 --seed "$seed")
        drop=$(grep rate_drop <<<"$out")
        row+=("$(field on_time_fraction <<<"$out")" "$(field on_time_fraction <<<"$drop")" \
            "$(field on_time_share_of_low_rate <<<"$drop")" "$(field recovered_after_ms <<<"$drop")" \
            "$(field max_lateness <<<"$out")" "$(field source_mbit <<<"$out")")
    done
    echo "| $mode | ${row[0]} / ${row[6]} | ${row[1]} / ${row[7]} | ${row[2]} / ${row[8]} | ${row[3]} / ${row[9]} | ${row[4]} / ${row[10]} | ${row[5]} / ${row[11]} |"
done
