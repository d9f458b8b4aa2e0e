#!/bin/bash
# build/linux-base (build/linux-7.3-base): a worktree of the base's tree at
# tag base (the unpatched kernel, for SERIES=0 builds and base-vs-series
# comparisons).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -d "$LINUX/.git" ] || "$ROOT/scripts/base.sh"
if [ ! -e "$LINUX_BASE/.git" ]; then
	git -C "$LINUX" worktree prune
	run_step "worktree: checking out ${LINUX_BASE#"$ROOT"/} at base" "$BUILD/logs/worktree-base$BSFX.log" \
		git -C "$LINUX" worktree add -q --detach "$LINUX_BASE" base ||
		die "git worktree add ${LINUX_BASE#"$ROOT"/} failed"
	echo "worktree: ${LINUX_BASE#"$ROOT"/} at base"
fi
