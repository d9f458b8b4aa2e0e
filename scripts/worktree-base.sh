#!/bin/bash
# build/linux-base: a worktree of build/linux at tag base (the unpatched
# kernel, for SERIES=0 builds and base-vs-series comparisons).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -d "$BUILD/linux/.git" ] || "$ROOT/scripts/base.sh"
if [ ! -e "$BUILD/linux-base/.git" ]; then
	git -C "$BUILD/linux" worktree prune
	run_step "worktree: checking out build/linux-base at base" "$BUILD/logs/worktree-base.log" \
		git -C "$BUILD/linux" worktree add -q --detach "$BUILD/linux-base" base ||
		die "git worktree add build/linux-base failed"
	echo "worktree: build/linux-base at base"
fi
