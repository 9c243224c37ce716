#!/usr/bin/env bash
# Builds every cargo-fuzz target of fuzz/ and runs each for a short while
# (STT_FUZZ_SECONDS, default 20), starting from the committed corpus
# fuzz/corpus/<target>/ (grown and minimised by scripts/fuzz-campaign.sh;
# loading it takes a few seconds of each run). Fails on any crash, panic,
# timeout or memory blow-up; the reproducer is left in
# fuzz/artifacts/<target>/ (copy it to tests/fuzz_regressions/<target>/
# once fixed).
#
# Needs a nightly toolchain (cargo-fuzz builds with -Z flags). Without one
# it says so and exits 0 unless STT_FUZZ_REQUIRED=1, since a toolchain
# cannot always be downloaded where this runs.
#
# Budget: about 90 s of fuzzing plus the build. A cold build of the four
# targets takes 3-4 minutes on 2 cores; point STT_FUZZ_TARGET_DIR at a
# directory that survives between runs to keep the whole script under 3
# minutes.
#
# Builds use no sanitizer (the crate is #![forbid(unsafe_code)]; the
# harness bounds the heap itself with a counting allocator) and keep debug
# assertions and overflow checks on, so arithmetic overflow on
# peer-supplied values is a crash.
set -euo pipefail

cd "$(dirname "$0")/.."
seconds="${STT_FUZZ_SECONDS:-20}"
target_dir="${STT_FUZZ_TARGET_DIR:-fuzz/target}"
targets=(wire_decode endpoint_datagrams session_frames pair_ops)

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "fuzz: SKIP: no nightly toolchain (cargo-fuzz needs one)"
    [ "${STT_FUZZ_REQUIRED:-0}" = 1 ] && exit 1
    exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

# The fuzz crate builds --locked: a stale fuzz/Cargo.lock (one cargo would
# rewrite, e.g. after a dependency of stt changed) fails here instead of
# being silently updated. `cargo fuzz build` has no --locked of its own, so
# the lock is checked by resolving the crate's metadata with it first.
cargo +nightly metadata --locked --format-version 1 \
    --manifest-path fuzz/Cargo.toml >/dev/null
flags=(-s none --debug-assertions --target-dir "$target_dir")
start=$(date +%s)
cargo +nightly fuzz build "${flags[@]}"
echo "fuzz: built in $(( $(date +%s) - start )) s"

failed=()
for t in "${targets[@]}"; do
    # Work in a scratch corpus so the committed seeds stay small.
    work="$(mktemp -d)"
    # A target without committed seeds starts from an empty corpus.
    mkdir -p "fuzz/corpus/$t"
    log="$(mktemp)"
    echo "fuzz: $t for ${seconds}s"
    # Structured targets read a sequence of operations: let inputs be long
    # from the start instead of growing slowly.
    extra=()
    [ "$t" != wire_decode ] && extra=(-max_len=1024 -len_control=0)
    if cargo +nightly fuzz run "${flags[@]}" "$t" "$work" "fuzz/corpus/$t" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        "${extra[@]}" -print_final_stats=1 >"$log" 2>&1; then
        grep -E "DONE|stat::number_of_executed_units" "$log" | sed "s/^/fuzz: $t: /"
    else
        tail -n 60 "$log"
        failed+=("$t")
    fi
    rm -rf "$work" "$log"
done

echo "fuzz: total $(( $(date +%s) - start )) s"
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: FAILED: ${failed[*]} (reproducers in fuzz/artifacts/)"
    exit 1
fi
echo "fuzz: ${#targets[@]} passed, 0 failed"
