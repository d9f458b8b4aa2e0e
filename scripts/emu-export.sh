#!/bin/bash
# Regenerate emu/patches/ (the QEMU wiring of the MANA model) as git
# format-patch output on Debian's pristine QEMU source, signed with the git
# identity of whoever runs it, as scripts/export.sh does for series/.
#
# Each patch is applied in order with git am on a scratch clone of
# build/qemu/src at its pristine commit (make qemu makes it), committed as
# the repository's git config user.name/user.email (From: and one
# Signed-off-by:, any other sign-off dropped), and written back with
# format-patch: no signature, zero hashes, the date of the last project
# commit that touched emu/patches for a new patch (an exported patch keeps
# its Date:), so that exporting again changes nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SRC=$BUILD/qemu/src
[ -f "$SRC/.harness-pristine" ] && [ -d "$SRC/.git" ] ||
	die "no pristine QEMU source in build/qemu/src: run 'make qemu' first"
name=$(git -C "$ROOT" config user.name) && email=$(git -C "$ROOT" config user.email) ||
	die "no git identity: git config --global user.name 'Your Name'; git config --global user.email you@example.org (emu/patches are signed with it)"
mapfile -t patches < <(find "$ROOT/emu/patches" -name '*.patch' | sort)
((${#patches[@]})) || die "emu/patches/ has no patches"
step "emu-export: ${#patches[@]} patches as $name <$email>"

date=$(git -C "$ROOT" log -1 --format=%aD -- emu/patches 2>/dev/null || true)
[ -n "$date" ] || date=$(date -R)
tmp=$(mktemp -d "$BUILD/qemu/emu-export.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
git clone -q --shared --no-checkout "$SRC" "$tmp/q"
git -C "$tmp/q" checkout -q --detach "$(git -C "$SRC" rev-list --max-parents=0 HEAD | tail -1)"

export GIT_AUTHOR_NAME=$name GIT_AUTHOR_EMAIL=$email GIT_AUTHOR_DATE=$date
export GIT_COMMITTER_NAME=$name GIT_COMMITTER_EMAIL=$email GIT_COMMITTER_DATE=$date
for p in "${patches[@]}"; do
	# The author is whoever exports: drop the old From: (which format-patch
	# may fold onto two lines) and sign-offs; keep an exported Date:.
	d=$(sed -n '1,/^$/s/^Date: //p' "$p" | head -1)
	d=${d:-$date}
	sed -e '1,/^$/{/^From [0-9a-f]\{40\} /d;/^From: [^<]*$/{N;s/\n / /};/^From: /d;/^Date: /d}' -e '/^Signed-off-by: /d' "$p" |
		{ printf 'From: %s <%s>\nDate: %s\n' "$name" "$email" "$d"; cat; } >"$tmp/mail"
	GIT_AUTHOR_DATE=$d GIT_COMMITTER_DATE=$d \
		git -C "$tmp/q" -c user.name="$name" -c user.email="$email" \
		am -q --signoff --committer-date-is-author-date "$tmp/mail" ||
		die "emu/patches/$(basename "$p") does not apply to the pristine QEMU source"
done
rm -f "$ROOT"/emu/patches/*.patch
git -C "$tmp/q" -c diff.noprefix=false -c core.abbrev=12 format-patch -q \
	--no-signature --zero-commit --no-numbered -o "$ROOT/emu/patches" \
	"HEAD~${#patches[@]}..HEAD"
ls "$ROOT/emu/patches"
