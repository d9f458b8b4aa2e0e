#!/bin/bash
# make bench: the MANA RX path of the base kernel (Linux 6.12, no series) and
# of the series, side by side, in one run: RX memory per posted buffer and per
# ring, RX packets/s from the emulator's RX generator, guest CPU per packet.
# A benchmark, not a test: it prints numbers (build/bench/), never a verdict.
#
# BENCH_CONFIGS   configs to run (default: arm64-64k arm64-16k arm64-4k x86_64)
# BENCH_SECONDS   length of one RX-rate window (default 5)
# BENCH_ROUNDS    RX-rate windows per frame size, the median is kept (default 3)
# BENCH_SIZES     RX generator frame sizes (default 64,1500)
# BENCH_MTUS      MTUs of the memory measurement (default 1500,9000)
# BENCH_RINGS     RX ring sizes to try for the memory measurement, largest
#                 first; the base guest takes the first its driver accepts
#                 and the series guest uses the same (default 8192,4096,2048,1024)
# BENCH_CYCLES    interface down/up cycles per memory figure (default 3)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

BENCH_CONFIGS=${BENCH_CONFIGS:-arm64-64k arm64-16k arm64-4k x86_64}
BENCH_SECONDS=${BENCH_SECONDS:-5}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_SIZES=${BENCH_SIZES:-64,1500}
BENCH_MTUS=${BENCH_MTUS:-1500,9000}
BENCH_RINGS=${BENCH_RINGS:-8192,4096,2048,1024}
BENCH_CYCLES=${BENCH_CYCLES:-3}
OUT=$BUILD/bench
for cfg in $BENCH_CONFIGS; do config_env "$cfg"; done
mkdir -p "$OUT"

step "bench: build what is missing (QEMU, base and series kernels, userspaces)"
# shellcheck disable=SC2086
SERIES="0 1" guest_build $BENCH_CONFIGS

# run_guest CONFIG KIND SERIES RINGS: the guest-side benchmark in one guest;
# its output (BENCH lines) goes to build/bench/CONFIG-KIND.log.
run_guest() {
	local cfg=$1 kind=$2 series=$3 rings=$4 log=$OUT/$1-$2.log
	local args="--rings $rings --mtus $BENCH_MTUS --xdp --cycles $BENCH_CYCLES"
	args="$args --sizes $BENCH_SIZES --seconds $BENCH_SECONDS --rounds $BENCH_ROUNDS"
	step "bench: $cfg $kind guest (log: ${log#"$ROOT"/})"
	if ! CONFIG=$cfg SERIES=$series NIC=mana TIMEOUT=${BENCH_TIMEOUT:-1200} \
		RUN="python3 /harness/run/tests/bench/rx-bench.py $args" \
		run_step "bench: the $cfg $kind guest runs rx-bench.py" "$log" "$ROOT/scripts/vm.sh"; then
		warn "$cfg $kind guest did not finish: see $log (its figures are missing below)"
	fi
	grep -E '^(BENCH|# )' "$log" | sed 's/^/  /' || true
}

{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "series: $(git -C "$LINUX" describe --always --tags 2>/dev/null) ($(git -C "$LINUX" rev-list --count base..HEAD 2>/dev/null) patches on base)"
	echo "qemu: $("$BUILD/qemu/build/qemu-system-x86_64" --version | head -1), TCG, 2 vCPUs, 2 GiB per guest"
	echo "host: $(nproc) CPUs, load average at start:$(cut -d' ' -f1-3 /proc/loadavg | sed 's/^/ /')"
} >"$OUT/run-info.txt"

for cfg in $BENCH_CONFIGS; do
	run_guest "$cfg" base 0 "$BENCH_RINGS"
	# the series guest measures memory with the ring the base accepted
	ring=$(grep -m1 -o '^BENCH mem .* ring=[0-9]*' "$OUT/$cfg-base.log" | sed 's/.*ring=//' || true)
	run_guest "$cfg" series 1 "${ring:-$BENCH_RINGS}"
done
echo "host load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/run-info.txt"

step "bench: report"
# shellcheck disable=SC2086
python3 "$ROOT/scripts/bench_report.py" "$OUT" $BENCH_CONFIGS
