#!/bin/bash
# Write base..HEAD of build/linux to series/ (BASE=7.3: build/linux-7.3 to
# net-next/), cover letter first, stable.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tree=${LINUX#"$ROOT"/} pdir=${PATCHES#"$ROOT"/}
[ -d "$LINUX/.git" ] || die "no $tree: run 'make tree${BSFX:+ BASE=$BASE}' first"
cd "$LINUX"
# make lint walks the series with a detached HEAD: exporting then would
# write the patches up to the one lint is checking and delete the rest
git symbolic-ref -q HEAD >/dev/null ||
	die "$tree is not on a branch (HEAD detached at $(git rev-parse --short HEAD): is make lint running?): export once it is back on its branch"
[ -z "$(git status --porcelain --untracked-files=no)" ] ||
	die "$tree has uncommitted changes: commit them first"
n=$(git rev-list --count base..HEAD)
step "export: $n patches to $pdir/"
mkdir -p "$PATCHES"
rm -f "$PATCHES"/*.patch
# the subject prefix: the tree a maintainer takes it into
case "$BASE" in
6.12) prefix="PATCH 6.12" ;;
*) prefix="PATCH net-next" ;;
esac
if ((n == 0)); then
	echo "export: no commits on base; $pdir/ is empty"
else
	git -c diff.noprefix=false format-patch -q --cover-letter \
		--cover-from-description=subject --no-signature --zero-commit \
		--no-numbered-files --subject-prefix="$prefix" \
		-o "$PATCHES" base..HEAD
	# The cover letter's Date is "now": pin it to the last patch's date.
	date=$(git log -1 --format='%aD' HEAD)
	sed -i "s/^Date: .*/Date: $date/" "$PATCHES/0000-cover-letter.patch"
	# The series goes out under the identity of whoever exports it: every
	# commit author's From:, Signed-off-by: and cover shortlog line become
	# the project's git config user (one submitter signs the whole series).
	name=$(git -C "$ROOT" config user.name) && email=$(git -C "$ROOT" config user.email) ||
		die "no git identity: git config --global user.name 'Your Name'; git config --global user.email you@example.org (the series is signed with it)"
	while IFS=$'\t' read -r old_name old_email; do
		[ "$old_name <$old_email>" = "$name <$email>" ] && continue
		echo "export: author $old_name <$old_email> -> $name <$email>"
		IDENT_OLD="$old_name <$old_email>" IDENT_NEW="$name <$email>" \
			NAME_OLD="$old_name" NAME_NEW="$name" perl -0pi -e '
			s/^(From|Signed-off-by): \Q$ENV{IDENT_OLD}\E$/$1: $ENV{IDENT_NEW}/mg;
			s/^\Q$ENV{NAME_OLD}\E( \(\d+\):)$/$ENV{NAME_NEW}$1/mg;
		' "$PATCHES"/*.patch
	done < <(git log --format='%an%x09%ae' base..HEAD | sort -u)
	# format-patch folds a From: longer than 78 columns, the rewrite above
	# does not: one line either way, so the same series exports the same
	# whoever committed it
	perl -0pi -e 's/^From: ([^\n<]*\S)\n (<[^\n]*>)$/From: $1 $2/mg' "$PATCHES"/*.patch
fi
mapfile -t patches < <(series_patches)
want=$(series_stamp "${patches[@]}")
echo "$want $(git rev-parse HEAD)" >.git/harness-series
ls "$PATCHES"
