#!/usr/bin/env bash
# Regenerates the goodput tables of docs/PERFORMANCE.md ("Simulated
# networks"): every row of the goodput table for every controller and both
# seeds, then the mixed and application-limited runs, printed as markdown
# rows to paste over the ones there.
#
#   scripts/goodput_table.sh            # both tables (~100 runs)
#   scripts/goodput_table.sh goodput    # only the goodput table
#   scripts/goodput_table.sh mixed      # only the mixed / app-limited one
#
# Builds the simulator first (release, feature `sim`). The runs are in
# virtual time: the same code, flags and seed print the same figures on any
# machine and under any load, so the output is reproducible cell for cell.
# A goodput cell is `goodput_fraction` for seed 1 / seed 2, then the RTT
# samples' median / 95th percentile (ms) of seed 1, plus the row's extra
# (retransmitted share, fairness) where it has one.
set -eu
cd "$(dirname "$0")/.."
which=${1:-all}
cargo build --release --quiet --features sim --example simulate
sim=target/release/examples/simulate

# `key=value` from a run's output (the first match).
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p" | head -1; }
# printf with one rounding rule for every cell.
fmt() { awk -v x="$2" "BEGIN { printf \"$1\", x }"; }

run() { nice -n 10 "$sim" "$@"; }

goodput_cell() { # extra flags...; prints one cell
    local extra=$1 cc=$2
    shift 2
    local a b
    a=$(run --cc "$cc" --seconds 20 "$@" --seed 1)
    b=$(run --cc "$cc" --seconds 20 "$@" --seed 2)
    local cell
    cell="$(field "$a" goodput_fraction) / $(field "$b" goodput_fraction); "
    local p50 p95
    p50=$(field "$a" rtt_p50_ms)
    p95=$(field "$a" rtt_p95_ms)
    case $extra in
    bold) cell+="$p50 / **$p95**" ;;
    *) cell+="$p50 / $p95" ;;
    esac
    case $extra in
    resent) cell+="; resent $(awk -v x="$(field "$a" retransmit_fraction)" 'BEGIN { printf "%.2f", x * 100 }') %" ;;
    minmax) cell+="; min/max $(fmt '%.2f' "$(field "$a" min_max_ratio)") / $(fmt '%.2f' "$(field "$b" min_max_ratio)")" ;;
    jain) cell+="; Jain $(fmt '%.2f' "$(field "$a" jain_index)") / $(fmt '%.2f' "$(field "$b" jain_index)")" ;;
    esac
    printf '%s' "$cell"
}

goodput_row() { # name, flags (one string), extra
    local name=$1 flags=$2 extra=$3
    local shown=""
    [ -n "$flags" ] && shown="\`$flags\`"
    local row="| $name | $shown |"
    local cc
    for cc in bbr cubic newreno; do
        # shellcheck disable=SC2086 # flags are words on purpose
        row+=" $(goodput_cell "$extra" "$cc" $flags) |"
    done
    echo "$row"
}

goodput_table() {
    echo "| profile | flags | BBR (default) | CUBIC | NewReno |"
    echo "|---|---|---|---|---|"
    goodput_row "clean" "" -
    goodput_row "1 % loss" "--loss 1%" -
    goodput_row "3 % loss" "--loss 3%" -
    goodput_row "5 % loss" "--loss 5%" -
    goodput_row "10 % loss" "--loss 10%" -
    goodput_row "20 % loss" "--loss 20%" -
    goodput_row "1 % loss in bursts" "--burst 1%" -
    goodput_row "5 % reordered 10 ms" "--reorder 5%" -
    goodput_row "2 % duplicated" "--dup 2%" -
    goodput_row "queue 8 BDP" "--queue-bdp 8" bold
    goodput_row "queue 0.1 BDP" "--queue-bdp 0.1" resent
    goodput_row "2 sessions" "--sessions 2" minmax
    goodput_row "4 sessions" "--sessions 4" jain
    # Later flags win: these rows run 30 s.
    goodput_row "300 ms RTT, 30 s" "--rtt-ms 300 --seconds 30" -
    goodput_row "300 ms RTT, 1 % loss, 30 s" "--rtt-ms 300 --seconds 30 --loss 1%" -
    goodput_row "1 ms RTT" "--rtt-ms 1" resent
}

mix_cell() { # seed
    local out s0 s1
    out=$(run --seconds 20 --sessions 2 --cc-mix bbr,cubic --seed "$1")
    s0=$(grep '^session=0 ' <<<"$out" | tr ' ' '\n' | sed -n 's/^fraction=//p')
    s1=$(grep '^session=1 ' <<<"$out" | tr ' ' '\n' | sed -n 's/^fraction=//p')
    awk -v a="$s0" -v b="$s1" 'BEGIN {
        printf "BBR %.3f, CUBIC %.3f of the link (shares %.2f / %.2f)", a, b, a / (a + b), b / (a + b) }'
}

app_cell() { # cc, seed
    local out clean phase
    out=$(run --cc "$1" --seconds 20 --app-mbit 10 --app-seconds 10 --seed "$2")
    clean=$(run --cc "$1" --seconds 10 --seed "$2")
    phase=$(grep '^app_phase session=0 ' <<<"$out")
    awk -v w="$(field "$phase" cwnd_at_end_kib)" -v f="$(field "$phase" max_in_flight_kib)" \
        -v lp="$(field "$phase" lost_in_phase)" -v la="$(field "$phase" lost_after)" \
        -v lc="$(field "$clean" lost_packets)" 'BEGIN {
        printf "window %.0f KiB at the end of the phase, most in flight %.0f KiB (%.2fx); lost %d in the phase, %d in the bulk after it (a clean 10 s start: %d)",
            w, f, w / f, lp, la, lc }'
}

mixed_table() {
    echo "| run | seed 1 | seed 2 |"
    echo "|---|---|---|"
    echo "| BBR against CUBIC, \`--sessions 2 --cc-mix bbr,cubic\` | $(mix_cell 1) | $(mix_cell 2) |"
    local cc name
    for cc in bbr cubic newreno; do
        case $cc in
        bbr) name="10 Mbit/s for 10 s then bulk, \`--app-mbit 10 --app-seconds 10\`, BBR" ;;
        cubic) name="same, CUBIC" ;;
        newreno) name="same, NewReno" ;;
        esac
        echo "| $name | $(app_cell "$cc" 1) | $(app_cell "$cc" 2) |"
    done
}

case $which in
all)
    goodput_table
    echo
    mixed_table
    ;;
goodput) goodput_table ;;
mixed) mixed_table ;;
*)
    echo "usage: $0 [all|goodput|mixed]" >&2
    exit 2
    ;;
esac
