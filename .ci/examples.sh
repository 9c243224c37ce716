#!/usr/bin/env bash
# Runs every example on loopback and fails if any fails. Debug builds with
# --all-features, the same artifacts `cargo test --all-features` built, so
# this step mostly runs rather than compiles. About 15 s of running.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --examples --all-features
bin="${CARGO_TARGET_DIR:-target}/debug/examples"

tmp="$(mktemp -d)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
# A sender keeps its key and session tickets under $XDG_STATE_HOME: here,
# not in the user's home.
export XDG_STATE_HOME="$tmp/state"

failed=0
pass() { printf 'ok      %s\n' "$1"; }
fail() { printf 'FAILED  %s\n' "$1"; return 1; }

# A command that must succeed within $1 seconds; its output goes to a log
# that is shown when it fails.
must_pass() {
    local name="$1" secs="$2"
    shift 2
    local rc=0
    timeout "$secs" "$@" >"$tmp/$name.log" 2>&1 || rc=$?
    if [[ $rc -eq 0 ]]; then
        pass "$name"
    else
        sed 's/^/    /' "$tmp/$name.log"
        fail "$name (exit $rc)"
    fi
}

# A command that must fail (exit 1 or 2, not a crash or a hang) and say $3.
must_fail() {
    local name="$1" secs="$2" says="$3"
    shift 3
    local rc=0
    timeout "$secs" "$@" >"$tmp/$name.log" 2>&1 || rc=$?
    if [[ $rc -ne 1 && $rc -ne 2 ]]; then
        sed 's/^/    /' "$tmp/$name.log"
        fail "$name (exit $rc, want 1 or 2)"
    elif ! grep -q "$says" "$tmp/$name.log"; then
        sed 's/^/    /' "$tmp/$name.log"
        fail "$name (no \"$says\" in its output)"
    else
        pass "$name (exit $rc: $(grep -m1 "$says" "$tmp/$name.log"))"
    fi
}

# Starts `stt-send listen 127.0.0.1:0 ...` in the background; sets
# listener_addr and listener_pid once it says where it listens.
start_listener() {
    local log="$1"
    shift
    "$bin/stt-send" listen 127.0.0.1:0 "$@" >"$log" 2>&1 &
    listener_pid=$!
    pids+=("$listener_pid")
    local line
    for _ in $(seq 100); do
        if line="$(grep -m1 -o 'listening on [0-9.:]*' "$log")"; then
            listener_addr="${line#listening on }"
            return 0
        fi
        sleep 0.05
    done
    echo "the listener did not start:" >&2
    cat "$log" >&2
    return 1
}

# --- the chapter's examples ---
for ex in file_transfer rpc stream_pool broadcast receive_loop priorities game_state live blocking; do
    must_pass "$ex" 60 "$bin/$ex" || failed=$((failed + 1))
done

# --- stt-send ---
must_pass "stt-send (no arguments: demo)" 60 "$bin/stt-send" || failed=$((failed + 1))

seed=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
other=ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100
mkdir -p "$tmp/files" "$tmp/inbox"
head -c 300000 /dev/urandom >"$tmp/files/first.bin"
printf 'a small text file\n' >"$tmp/files/second.txt"

# A listen/send pair with two files on parallel streams.
start_listener "$tmp/listen.log" --seed "$seed" --out "$tmp/inbox" --once
addr="$listener_addr"
must_pass "stt-send send (two files)" 60 \
    "$bin/stt-send" send "$addr" "$tmp/files/first.bin" "$tmp/files/second.txt" --seed "$seed" \
    --qlog "$tmp/qlog" || failed=$((failed + 1))
# Its trace (--qlog, feature trace): a qlog file per session, JSON-SEQ records.
qlog_file="$(ls "$tmp/qlog/"*.sqlog 2>/dev/null | head -1)"
if [[ -n "$qlog_file" ]] && [[ "$(head -c1 "$qlog_file" | od -An -tx1 | tr -d ' ')" == 1e ]] \
    && grep -q '"transport:packet_sent"' "$qlog_file"; then
    pass "stt-send --qlog wrote $(basename "$qlog_file")"
else
    fail "stt-send --qlog (no qlog file in $tmp/qlog)" || failed=$((failed + 1))
fi
for _ in $(seq 200); do
    kill -0 "$listener_pid" 2>/dev/null || break
    sleep 0.1
done
rc=0
wait "$listener_pid" || rc=$?
if [[ $rc -eq 0 ]]; then
    pass "stt-send listen --once (exit 0)"
else
    sed 's/^/    /' "$tmp/listen.log"
    fail "stt-send listen --once (exit $rc)" || failed=$((failed + 1))
fi
for f in first.bin second.txt; do
    if cmp -s "$tmp/files/$f" "$tmp/inbox/$f"; then
        pass "received $f is identical"
    else
        fail "received $f differs or is missing" || failed=$((failed + 1))
    fi
done

# Failures must be clear and non-zero: a wrong seed and an unreachable peer
# (both wait out the sender's 5 s handshake timeout, so they run together),
# a missing file.
start_listener "$tmp/listen2.log" --seed "$seed" --out "$tmp/inbox"
addr="$listener_addr"
must_fail "stt-send-wrong-seed" 30 "no answer" \
    "$bin/stt-send" send "$addr" "$tmp/files/second.txt" --seed "$other" &
wrong=$!
# Port 9 (discard): nothing answers there.
must_fail "stt-send-unreachable" 30 "no answer" \
    "$bin/stt-send" send 127.0.0.1:9 "$tmp/files/second.txt" --seed "$seed" &
unreachable=$!
must_fail "stt-send-missing-file" 10 "cannot read" \
    "$bin/stt-send" send "$addr" "$tmp/files/missing.bin" --seed "$seed" \
    || failed=$((failed + 1))
wait "$wrong" || failed=$((failed + 1))
wait "$unreachable" || failed=$((failed + 1))

# Tickets across runs: a second sender run to the same listener resumes
# (the first saved its ticket, mode 0600, beside its key).
must_pass "stt-send-first-run" 30 \
    "$bin/stt-send" send "$addr" "$tmp/files/second.txt" --seed "$seed" -v \
    || failed=$((failed + 1))
must_pass "stt-send-second-run" 30 \
    "$bin/stt-send" send "$addr" "$tmp/files/second.txt" --seed "$seed" -v \
    || failed=$((failed + 1))
mode="$(stat -c %a "$tmp/state/stt-send/tickets" 2>/dev/null || echo none)"
if grep -q "full handshake" "$tmp/stt-send-first-run.log" \
    && grep -q "resumed (session ticket)" "$tmp/stt-send-second-run.log" && [[ $mode == 600 ]]; then
    pass "stt-send second run resumed (ticket file mode $mode)"
else
    sed 's/^/    /' "$tmp/stt-send-second-run.log"
    fail "stt-send second run did not resume (ticket file mode $mode)" || failed=$((failed + 1))
fi

if [[ $failed -ne 0 ]]; then
    echo "examples: $failed failed"
    exit 1
fi
echo "examples: all passed"
