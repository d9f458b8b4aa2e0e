#!/bin/bash
# make bench: the MANA RX path of four kernels side by side, in one run: Linux
# 6.12 without the series (base) and with it (series), Linux 7.3 without
# net-next/ (mainline) and with it (net-next). RX memory per posted buffer and
# per ring, RX packets/s from the emulator's RX generator, guest CPU per packet.
# A benchmark, not a test: it prints numbers (build/bench/), never a verdict.
#
# BENCH_BASES     kernel bases to run (default: 6.12 7.3; BASE=<b> alone: that
#                 base): 6.12 boots base and series, 7.3 mainline and net-next
# BENCH_CONFIGS   configs to run (default: arm64-64k arm64-16k arm64-4k x86_64)
# BENCH_SECONDS   length of one RX-rate window (default 5)
# BENCH_ROUNDS    RX-rate windows per frame size, the median is kept (default 3)
# BENCH_SIZES     RX generator frame sizes (default 64,1500)
# BENCH_MTUS      MTUs of the memory measurement (default 1500,9000)
# BENCH_RINGS     RX ring sizes to try for the memory measurement, largest
#                 first; the config's first guest (6.12 base, else 7.3
#                 mainline) takes the first its driver accepts and the other
#                 guests use the same (default 8192,4096,2048,1024)
# BENCH_CYCLES    interface down/up cycles per memory figure (default 3)
# BENCH_COST_SECONDS  length of one cost window (default 5; 0: none): guest
#                 instructions, data accesses and modeled cache misses per
#                 received packet, from the cost plugin (emu/plugin/cost.c)
# BENCH_COST_ROUNDS   cost windows per frame size and plugin mode (default 2)
# BENCH_CPUS      guest vCPUs (default 1: a vCPU is a host thread under
#                 multi-threaded TCG, and the generator's thread needs a core
#                 of its own, or the guest waits for the host's scheduler)
# BENCH_PIN       host CPUs of the vCPU threads, QEMU's other threads on the
#                 rest (default: the first BENCH_CPUS host CPUs when the host
#                 has one more; none: no pinning)
# BENCH_QUEUES    RX queues (channels) of the rate and cost windows (default 0:
#                 the driver's default, one per vCPU), the generator's flows
#                 spread over them by RSS
# BENCH_FLOWS     the generator's flows (default 16)
# BENCH_PPS_RING  RX ring of the rate and cost windows (default 4096; 0: the
#                 driver's default, 512 in every kernel here, which the
#                 generator's batches run dry: the guest idles between them)
set -euo pipefail
given=${BASE:-} # make bench BASE=<b>: that base alone
. "$(dirname "$0")/lib.sh"

BENCH_BASES=${BENCH_BASES:-${given:-$BASES}}

BENCH_CONFIGS=${BENCH_CONFIGS:-arm64-64k arm64-16k arm64-4k x86_64}
BENCH_SECONDS=${BENCH_SECONDS:-5}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_SIZES=${BENCH_SIZES:-64,1500}
BENCH_MTUS=${BENCH_MTUS:-1500,9000}
BENCH_RINGS=${BENCH_RINGS:-8192,4096,2048,1024}
BENCH_CYCLES=${BENCH_CYCLES:-3}
BENCH_COST_SECONDS=${BENCH_COST_SECONDS:-5}
BENCH_COST_ROUNDS=${BENCH_COST_ROUNDS:-2}
BENCH_CPUS=${BENCH_CPUS:-1}
if [ -z "${BENCH_PIN+set}" ]; then
	BENCH_PIN=none
	if (($(nproc) > BENCH_CPUS)); then
		BENCH_PIN=$(seq -s, 0 $((BENCH_CPUS - 1)))
	fi
fi
BENCH_QUEUES=${BENCH_QUEUES:-0}
BENCH_FLOWS=${BENCH_FLOWS:-16}
BENCH_PPS_RING=${BENCH_PPS_RING:-4096}
OUT=$BUILD/bench
for cfg in $BENCH_CONFIGS; do config_env "$cfg"; done
for b in $BENCH_BASES; do
	[[ " $BASES " == *" $b "* ]] || die "unknown base '$b' in BENCH_BASES: use some of: $BASES"
done
mkdir -p "$OUT"

# kinds BASE: the two guests of a base, "<kind>:<SERIES>"
kinds() {
	case "$1" in
	6.12) echo base:0 series:1 ;;
	7.3) echo mainline:0 net-next:1 ;;
	esac
}

for b in $BENCH_BASES; do
	step "bench: build what is missing for Linux $b (QEMU, its kernels without and with its patches, userspaces)"
	# shellcheck disable=SC2086
	BASE=$b SERIES="0 1" guest_build $BENCH_CONFIGS
done

# run_guest CONFIG BASE KIND SERIES RINGS: the guest-side benchmark in one
# guest; its output (BENCH lines) goes to build/bench/CONFIG-KIND.log.
run_guest() {
	local cfg=$1 base=$2 kind=$3 series=$4 rings=$5 log=$OUT/$1-$3.log
	local args="--rings $rings --mtus $BENCH_MTUS --xdp --cycles $BENCH_CYCLES"
	args="$args --sizes $BENCH_SIZES --seconds $BENCH_SECONDS --rounds $BENCH_ROUNDS"
	args="$args --cost-seconds $BENCH_COST_SECONDS --cost-rounds $BENCH_COST_ROUNDS"
	args="$args --queues $BENCH_QUEUES --flows $BENCH_FLOWS --pps-ring $BENCH_PPS_RING"
	step "bench: $cfg $kind guest, Linux $base (log: ${log#"$ROOT"/})"
	# (COST=off: the cost plugin loaded, counting only in the cost windows)
	local pin=$BENCH_PIN
	[ "$pin" != none ] || pin=''
	if ! BASE=$base CONFIG=$cfg SERIES=$series NIC=mana COST=off SMP=$BENCH_CPUS PIN=$pin TIMEOUT=${BENCH_TIMEOUT:-1200} \
		RUN="python3 /harness/run/tests/bench/rx-bench.py $args" \
		run_step "bench: the $cfg $kind guest runs rx-bench.py" "$log" "$ROOT/scripts/vm.sh"; then
		warn "$cfg $kind guest did not finish: see $log (its figures are missing below)"
	fi
	grep -E '^(BENCH|# )' "$log" | sed 's/^/  /' || true
}

# patches_of BASE: the patched tree of BASE (lib.sh sets LINUX by BASE)
patches_of() {
	local tree
	# shellcheck disable=SC2016 # (expanded by the inner shell)
	tree=$(BASE=$1 bash -c '. "$0"/scripts/lib.sh && echo "$LINUX"' "$ROOT")
	echo "$(git -C "$tree" describe --always --tags 2>/dev/null) ($(git -C "$tree" rev-list --count base..HEAD 2>/dev/null) patches on base, ${tree#"$ROOT"/})"
}

{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "bases: $BENCH_BASES; configs: $BENCH_CONFIGS"
	for b in $BENCH_BASES; do
		case "$b" in
		6.12) echo "series (Linux 6.12 + series/): $(patches_of "$b")" ;;
		7.3) echo "net-next (Linux 7.3 + net-next/): $(patches_of "$b")" ;;
		esac
	done
	echo "qemu: $("$BUILD/qemu/build/qemu-system-x86_64" --version | head -1), TCG, $BENCH_CPUS vCPUs (pinned to host CPU $BENCH_PIN), 2 GiB per guest"
	echo "rate and cost windows: RX queues $BENCH_QUEUES, ring $BENCH_PPS_RING (0: the driver's default), $BENCH_FLOWS flows, frames of $BENCH_SIZES B"
	echo "host: $(nproc) CPUs, load average at start:$(cut -d' ' -f1-3 /proc/loadavg | sed 's/^/ /')"
} >"$OUT/run-info.txt"

for cfg in $BENCH_CONFIGS; do
	# no figures of an earlier run in this run's report
	rm -f "$OUT/$cfg"-{base,series,mainline,net-next}.log
	# the first guest of the config takes the first ring its driver accepts
	# (6.12 base: the one that accepts the least); the others use the same
	rings=$BENCH_RINGS first=''
	for b in $BENCH_BASES; do
		for ks in $(kinds "$b"); do
			run_guest "$cfg" "$b" "${ks%:*}" "${ks#*:}" "$rings"
			[ -z "$first" ] || continue
			first=${ks%:*}
			ring=$(grep -m1 -o '^BENCH mem .* ring=[0-9]*' "$OUT/$cfg-$first.log" | sed 's/.*ring=//' || true)
			rings=${ring:-$BENCH_RINGS}
		done
	done
done
echo "host load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/run-info.txt"

step "bench: report"
# shellcheck disable=SC2086
python3 "$ROOT/scripts/bench_report.py" "$OUT" $BENCH_CONFIGS
