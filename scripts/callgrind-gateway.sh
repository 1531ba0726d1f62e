#!/bin/sh
# The gateway under callgrind, for counting instructions where the machine is too noisy
# for times: give it to the bench as PITCHSIDE_BIN, e.g.
#
#   PITCHSIDE_BIN=$PWD/scripts/callgrind-gateway.sh BENCH_FANOUT=1000 ... target/gateway/bench
#   kill -TERM $(cat target/callgrind/pids)    # each gateway then writes its profile
#   callgrind_annotate --inclusive=yes target/callgrind/callgrind.<pid>.out
#
# The bench ends its gateways with SIGKILL, which callgrind cannot write a profile
# after, so valgrind runs detached from this shell (the bench's SIGKILL ends only the
# shell) and is ended with SIGTERM afterwards, which the gateway shuts down cleanly on.
dir="${CALLGRIND_DIR:-$(dirname "$0")/../target/callgrind}"
mkdir -p "$dir"
valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.%p.out" \
  "${GATEWAY:-$(dirname "$0")/../target/gateway/pitchside}" "$@" 2>>"$dir/valgrind.log" &
echo $! >>"$dir/pids"
wait
