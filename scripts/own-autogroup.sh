#!/usr/bin/env bash
# Runs a benchmark in a session of its own whose scheduler autogroup has
# nice -10, so that it takes the CPUs ahead of other sessions' work:
#
#   scripts/own-autogroup.sh examples/stt-send/vs-pair.sh 3
#
# Why: with `kernel.sched_autogroup_enabled=1` (the default on many
# distributions) the scheduler shares the CPUs between sessions first and
# applies `nice` only inside each session, so builds started elsewhere
# under `nice -n 10` still take an equal share from a benchmark. Raising an
# autogroup's priority needs CAP_SYS_NICE; without it this runs the command
# as it is and says so.
set -euo pipefail
[[ $# -ge 1 ]] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }
exec setsid -w bash -c '
    if ! echo -10 >/proc/self/autogroup 2>/dev/null; then
        echo "own-autogroup: cannot raise the autogroup priority; running as is" >&2
    fi
    exec "$@"' own-autogroup "$@"
