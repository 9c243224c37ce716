#!/usr/bin/env bash
# A fuzzing campaign: runs every cargo-fuzz target of fuzz/ (or the ones
# named) for SECONDS each (or until STT_FUZZ_RUNS executions), then merges
# what it found into the committed corpus fuzz/corpus/<target>/ and
# minimises it (`cargo fuzz cmin`), so
# CI's .ci/fuzz.sh and tests/fuzz_regressions.rs start from it. Commit the
# changed corpus afterwards.
#
#   scripts/fuzz-campaign.sh 3600                       # an hour a target
#   scripts/fuzz-campaign.sh 600 session_frames pair_ops
#   STT_FUZZ_PARALLEL=2 scripts/fuzz-campaign.sh 1800   # two targets at once
#   STT_FUZZ_RUNS=1000000 scripts/fuzz-campaign.sh 14400 # a million each
#
# Prints one markdown row per target (the table of docs/SECURITY.md,
# "Fuzzing campaigns"): seconds it ran, executions, executions a second,
# corpus files and bytes after minimising. Logs stay in $work/<target>.log.
#
# Environment:
#   STT_FUZZ_RUNS        stop a target after this many executions
#                        (libFuzzer's -runs; SECONDS stays the limit)
#   STT_FUZZ_PARALLEL    targets fuzzed at once (default 1)
#   STT_FUZZ_NICE        niceness of the fuzzers (default 15: a shared
#                        machine stays usable)
#   STT_FUZZ_TARGET_DIR  cargo target directory (default fuzz/target)
#   STT_FUZZ_TIMEOUT     seconds one input may take before it counts as a
#                        hang (default 60: wall-clock time, and a niced
#                        fuzzer on a busy machine gets a fraction of a core;
#                        CI's unniced runs use 10)
#
# Same build as CI: no sanitizer (the crate forbids unsafe code; the
# harness bounds the heap itself), debug assertions and overflow checks on.
# A crash stops only its target; its input is left in fuzz/artifacts/ and
# the script exits 1 at the end.
set -euo pipefail

cd "$(dirname "$0")/.."
seconds="${1:?usage: scripts/fuzz-campaign.sh SECONDS [TARGET...]}"
shift
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(wire_decode endpoint_datagrams session_frames pair_ops)
parallel="${STT_FUZZ_PARALLEL:-1}"
niceness="${STT_FUZZ_NICE:-15}"
runs="${STT_FUZZ_RUNS:-}"
target_dir="${STT_FUZZ_TARGET_DIR:-fuzz/target}"
timeout="${STT_FUZZ_TIMEOUT:-60}"
work="$target_dir/campaign"

flags=(-s none --debug-assertions --target-dir "$target_dir")
cargo +nightly metadata --locked --format-version 1 \
    --manifest-path fuzz/Cargo.toml >/dev/null
cargo +nightly fuzz build "${flags[@]}"

# libFuzzer options of a target: the structured targets read a sequence of
# operations, so their inputs may be long from the start.
options() {
    local o=(-timeout="$timeout" -rss_limit_mb=2048)
    [ "$1" != wire_decode ] && o+=(-max_len=1024 -len_control=0)
    echo "${o[@]}"
}

# Only while fuzzing: -runs would cut a merge short.
limits() {
    local o=(-max_total_time="$seconds")
    [ -n "$runs" ] && o+=(-runs="$runs")
    echo "${o[@]}"
}

fuzz_one() {
    local t=$1
    rm -rf "${work:?}/$t"
    mkdir -p "$work/$t" "fuzz/corpus/$t"
    local start status=0
    start=$(date +%s)
    # New inputs go to the first directory; the corpus is only read.
    # shellcheck disable=SC2046
    nice -n "$niceness" cargo +nightly fuzz run "${flags[@]}" "$t" \
        "$work/$t" "fuzz/corpus/$t" -- $(limits) \
        $(options "$t") -print_final_stats=1 >"$work/$t.log" 2>&1 || status=$?
    echo $(($(date +%s) - start)) >"$work/$t.seconds"
    return $status
}

mkdir -p "$work"
pids=()
names=()
failed=()
for t in "${targets[@]}"; do
    echo "campaign: $t for ${seconds}s"
    fuzz_one "$t" &
    pids+=($!)
    names+=("$t")
    if [ ${#pids[@]} -ge "$parallel" ]; then
        wait "${pids[0]}" || failed+=("${names[0]}")
        pids=("${pids[@]:1}")
        names=("${names[@]:1}")
    fi
done
for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || failed+=("${names[$i]}")
done

echo "| target | seconds | executions | executions/s | corpus files | corpus bytes |"
echo "|---|---:|---:|---:|---:|---:|"
for t in "${targets[@]}"; do
    # Merge, then keep a smallest set of inputs that covers every feature
    # (set cover: about a third of what a plain merge keeps).
    find "$work/$t" -maxdepth 1 -type f -exec cp -n {} "fuzz/corpus/$t/" \;
    # shellcheck disable=SC2046
    nice -n "$niceness" cargo +nightly fuzz cmin "${flags[@]}" "$t" "fuzz/corpus/$t" -- \
        $(options "$t") -set_cover_merge=1 >"$work/$t.cmin.log" 2>&1
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log" | tail -1)
    took=$(cat "$work/$t.seconds" 2>/dev/null || echo "$seconds")
    took=$((took > 0 ? took : 1))
    files=$(find "fuzz/corpus/$t" -maxdepth 1 -type f ! -name '.*' | wc -l)
    bytes=$(find "fuzz/corpus/$t" -maxdepth 1 -type f ! -name '.*' -printf '%s\n' |
        awk '{s += $1} END {print s + 0}')
    echo "| \`$t\` | $took | ${execs:-?} | $(( ${execs:-0} / took )) | $files | $bytes |"
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "campaign: FAILED: ${failed[*]} (inputs in fuzz/artifacts/, logs in $work/)"
    exit 1
fi
