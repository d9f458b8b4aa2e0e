#!/bin/bash
# build/linux = base + series/*.patch (BASE=7.3: build/linux-7.3 = base +
# net-next/*.patch), with git am. Quick when nothing changed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$ROOT/scripts/deps.sh" >/dev/null
"$ROOT/scripts/base.sh"
cd "$LINUX"
tree=${LINUX#"$ROOT"/} pdir=${PATCHES#"$ROOT"/}

mapfile -t patches < <(series_patches)
want=$(series_stamp "${patches[@]}")
stampf=.git/harness-series
read -r have_series have_head 2>/dev/null <"$stampf" || { have_series=none; have_head=none; }
head=$(git rev-parse HEAD)

step "tree: Linux $BASE base + ${#patches[@]} patches from $pdir/"
if [ "$want" = "$have_series" ]; then
	if [ "$head" = "$have_head" ]; then
		echo "tree: up to date ($(git rev-list --count base..HEAD) patches on base)"
	else
		echo "tree: $tree has work not exported to $pdir/ ($(git rev-list --count "$have_head"..HEAD 2>/dev/null || echo '?') new commits); left as is (make export saves it)"
	fi
	exit 0
fi

# $pdir/ changed: rebuild the branch from base, unless that would lose work.
if [ "$have_head" != none ] && [ "$head" != "$have_head" ] && [ -z "${FORCE:-}" ]; then
	die "$pdir/ changed and $tree has commits not in $pdir/: run 'make export${BSFX:+ BASE=$BASE}' first, or FORCE=1 make tree to discard them"
fi
if [ -n "$(git status --porcelain --untracked-files=no)" ] && [ -z "${FORCE:-}" ]; then
	die "$tree has uncommitted changes: commit or stash them, or FORCE=1 make tree to discard them"
fi
git am --abort >/dev/null 2>&1 || true
git checkout -q -B master base
git reset -q --hard base

# The cover letter's subject and text become the branch description, which
# make export turns back into the cover letter.
cover=$PATCHES/0000-cover-letter.patch
if [ -f "$cover" ]; then
	# The Subject header may be folded over several lines; the body ends
	# at the shortlog ("Name (N):") or the diffstat.
	awk '/^Subject: / {sub(/^Subject: (\[[^]]*\] )?/, ""); subj = $0; insubj = 1; next}
	     insubj && /^[ \t]/ {subj = subj $0; next}
	     insubj {insubj = 0; started = 1; print subj; print ""}
	     body && /^---$|^[A-Za-z0-9 .-]+ \([0-9]+\):$/ {exit}
	     started && !body && /^$/ {body = 1; next}
	     body {print}' "$cover" >.git/harness-cover
	git config branch.master.description "$(cat .git/harness-cover)"
fi

apply_series() { # git am each patch; the last line names the one that fails
	local p
	for p in "${patches[@]}"; do
		if ! git am -q --committer-date-is-author-date "$p"; then
			git am --abort >/dev/null 2>&1 || true
			echo "$pdir/$(basename "$p") does not apply"
			return 1
		fi
	done
}
log=$BUILD/logs/tree$BSFX.log
run_step "tree: git am ${#patches[@]} patches" "$log" apply_series ||
	die "$(tail -1 "$log") ($tree reset to base + the patches before it)"
echo "$want $(git rev-parse HEAD)" >"$stampf"
echo "tree: applied ${#patches[@]} patches"
