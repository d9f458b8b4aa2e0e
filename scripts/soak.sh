#!/bin/bash
# make soak: a seeded, replayable fault and reconfiguration campaign
# (tests/soak/soak.py) against the MANA model, in one guest of the debug
# kernel of a config.
#
# CONFIG   the guest's kernel config (default arm64-64k)
# BASE     6.12 (series/) or 7.3 (net-next/), as for every kernel target
# SEED     the schedule's seed (default: a new one, printed); the same seed
#          replays the same steps
# MINUTES  how long the schedule runs (default 10); the guest's time limit
#          is that plus SOAK_MARGIN (1200) seconds for boot and the checks
#          after the schedule
# DEBUG    1 (default): the debug kernel (configs/debug); 0 the normal one
# SERIES, LINUX_TREE  as for make vm (the base kernel, another worktree)
# SOAK_SETTLE  seconds the port has to pass traffic once the faults are
#          cleared (default 30)
# SOAK_SLOW    every command's time limit (120 s for most) and the settle
#          time are multiplied by it (default 3 on a debug kernel, which
#          runs several times slower under TCG, else 1): a hang still fails
#          the soak, and the debug kernel's hung-task detector (120 s) logs
#          a task blocked that long whatever the limit
# SOAK_STEPS   stop after that many steps (default 0: MINUTES decides), to
#          replay a run up to the step that failed
# The guest's output goes to build/soak/<guest>-seed<SEED>.log; the exit
# status is 0 when the soak's last line says failures=0.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

CONFIG=${CONFIG:-arm64-64k}
DEBUG=${DEBUG:-1}
SEED=${SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
MINUTES=${MINUTES:-10}
[[ $SEED =~ ^[0-9]+$ ]] || die "SEED must be a number, not '$SEED'"
[[ $MINUTES =~ ^[0-9]+([.][0-9]+)?$ ]] || die "MINUTES must be a number, not '$MINUTES'"
[[ ${SOAK_STEPS:-0} =~ ^[0-9]+$ ]] || die "SOAK_STEPS must be a number, not '$SOAK_STEPS'"
[[ ${SOAK_SETTLE:-30} =~ ^[0-9]+$ ]] || die "SOAK_SETTLE must be a number, not '$SOAK_SETTLE'"
SOAK_SLOW=${SOAK_SLOW:-$([ "$DEBUG" = 1 ] && echo 3 || echo 1)}
[[ $SOAK_SLOW =~ ^[1-9][0-9]*$ ]] || die "SOAK_SLOW must be a whole number of at least 1, not '$SOAK_SLOW'"
config_env "$CONFIG"
name=$CONFIG$BSFX
[ "$DEBUG" = 1 ] && name=$name-debug
[ "${SERIES:-1}" = 0 ] && name=$name-base
[ -n "${LINUX_TREE:-}" ] && name=$name-$(basename "$LINUX_TREE") # as vm.sh names the guest
log=$BUILD/soak/$name-seed$SEED.log
mkdir -p "$BUILD/soak"
# boot and the checks after the schedule (kmemleak scans, rmmod, a
# module load) are slow on a debug kernel under TCG
timeout=$(awk -v m="$MINUTES" -v x="${SOAK_MARGIN:-1200}" 'BEGIN {printf "%d", m * 60 + x}')

# what else makes this run: in the replay command when set
replay="make soak CONFIG=$CONFIG BASE=$BASE DEBUG=$DEBUG SEED=$SEED MINUTES=$MINUTES"
for v in SERIES LINUX_TREE TCG_THREAD SOAK_SLOW; do
	[ -n "${!v:-}" ] && replay="$replay $v=${!v}"
done
step "soak: $name, seed $SEED, $MINUTES min (replay: $replay)"
export CONFIG DEBUG
# what the guest needs, in sight rather than in the guest's log
guest_build "$CONFIG"
rc=0
RUN="python3 /harness/run/tests/soak/soak.py --seed $SEED --minutes $MINUTES --config $name --settle ${SOAK_SETTLE:-30} --slow $SOAK_SLOW --steps ${SOAK_STEPS:-0}" \
	NIC=mana TIMEOUT=$timeout run_step "soak: the $name guest runs the schedule" "$log" \
	"$ROOT/scripts/vm.sh" || rc=$?
# the report: from its heading to the end
sed -n '/^== soak report/,$p' "$log"
result=$(grep -E '^soak .* failures=[0-9]+$' "$log" | tail -1 || true)
if [ -z "$result" ]; then
	grep -E '^FAILURE ' "$log" | tail -5 || true
	die "the $name guest did not finish the soak (exit $rc): see ${log#"$ROOT"/} and build/vm/$name/console.log (replay: SEED=$SEED)"
fi
if [[ $result != *" failures=0" ]]; then
	echo "soak: ${result##*failures=} failures: replay with $replay" >&2
	exit 1
fi
((rc == 0)) || die "the soak reported no failure but the guest exited $rc: see ${log#"$ROOT"/}"
