#!/usr/bin/env bash
# Real-kernel goodput of the tokio adapter through a 100 Mbit/s token
# bucket (tbf, 50 ms of queue) in a private network namespace: one
# `stt-send` file transfer over loopback, its goodput against the shaped
# rate, and the queueing delay it caused (the smoothed RTT at the end of
# the transfer; loopback alone adds well under 0.1 ms).
#
#   scripts/netns_goodput.sh [RATE_MBIT] [FILE_MIB]
#
# Needs release builds of the example (`cargo build --release --example
# stt-send`). Exits 77 (skip) where user namespaces are not allowed; exits 1
# if goodput is under 90 % of the shaped rate.
set -u
cd "$(dirname "$0")/.."
rate=${1:-100}
mib=${2:-64}
link=../shared/tools/netns-link.sh
[ -x "$link" ] || link=/work/shared/tools/netns-link.sh
bin=target/release/examples/stt-send
[ -x "$bin" ] || { echo "build first: cargo build --release --example stt-send" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -c $((mib << 20)) /dev/urandom > "$tmp/file.bin"
mkdir -p "$tmp/inbox"
export STT_SHARED_SEED=${STT_SHARED_SEED:-000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f}
out=$("$link" --rate-mbit "$rate" -- bash -c "
  $bin listen 127.0.0.1:4700 --once --out $tmp/inbox >/dev/null 2>&1 &
  sleep 1
  $bin send 127.0.0.1:4700 $tmp/file.bin 2>&1
  wait")
rc=$?
[ $rc -eq 77 ] && { echo "skipped: user network namespaces are not allowed here"; exit 77; }
echo "$out" | grep -E "sent|rtt"
mbit=$(echo "$out" | sed -n 's/.*(\([0-9.]*\) Mbit\/s).*/\1/p' | head -1)
rtt=$(echo "$out" | sed -n 's/.*rtt \([0-9.]*\) ms.*/\1/p' | head -1)
[ -n "$mbit" ] || { echo "no goodput figure in the output (rc $rc)"; exit 1; }
# Goodput is file bytes over time, against the shaped rate of UDP payload
# plus headers the bucket counts (IP 20 + UDP 8 bytes per 1452-byte datagram).
frac=$(awk -v m="$mbit" -v r="$rate" 'BEGIN { printf "%.3f", m / r }')
echo "goodput_fraction=$frac shaped_mbit=$rate queueing_delay_ms=$rtt"
awk -v f="$frac" 'BEGIN { exit !(f >= 0.90) }'
