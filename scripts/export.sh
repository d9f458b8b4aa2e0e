#!/bin/bash
# Write base..HEAD of build/linux to series/ (cover letter first, stable).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

LINUX=$BUILD/linux
[ -d "$LINUX/.git" ] || die "no build/linux: run 'make tree' first"
cd "$LINUX"
[ -z "$(git status --porcelain --untracked-files=no)" ] ||
	die "build/linux has uncommitted changes: commit them first"
n=$(git rev-list --count base..HEAD)
step "export: $n patches to series/"
mkdir -p "$ROOT/series"
rm -f "$ROOT"/series/*.patch
if ((n == 0)); then
	echo "export: no commits on base; series/ is empty"
else
	git -c diff.noprefix=false format-patch -q --cover-letter \
		--cover-from-description=subject --no-signature --zero-commit \
		--no-numbered-files --subject-prefix="PATCH 6.12" \
		-o "$ROOT/series" base..HEAD
	# The cover letter's Date is "now": pin it to the last patch's date.
	date=$(git log -1 --format='%aD' HEAD)
	sed -i "s/^Date: .*/Date: $date/" "$ROOT/series/0000-cover-letter.patch"
fi
mapfile -t patches < <(find "$ROOT/series" -maxdepth 1 -name '*.patch' ! -name '0000-cover-letter.patch' | sort)
want=$( (echo series; for p in "${patches[@]}"; do sha256sum "$p"; done) | sha256sum | cut -c1-16)
echo "$want $(git rev-parse HEAD)" >.git/harness-series
ls "$ROOT/series"
