#!/bin/bash
# Install Debian's pinned linux-source-6.12, extract it to build/linux and
# commit it there as the base of the series (tag "base").
set -euo pipefail
. "$(dirname "$0")/lib.sh"

LINUX=$BUILD/linux
if git -C "$LINUX" rev-parse -q --verify base >/dev/null 2>&1; then
	echo "base: build/linux already has tag base"
	exit 0
fi

step "base: $LINUX_PKG $LINUX_PIN"
log=$BUILD/logs/base.log
installed=$(dpkg-query -W -f='${Version}' "$LINUX_PKG" 2>/dev/null || true)
if [ "$installed" != "$LINUX_PIN" ]; then
	export DEBIAN_FRONTEND=noninteractive
	versions=$(apt-cache madison "$LINUX_PKG" | awk '{print $3}')
	if grep -qxF "$LINUX_PIN" <<<"$versions"; then
		run_step "base: apt-get install $LINUX_PKG=$LINUX_PIN" "$log" \
			apt-get install -y -q "$LINUX_PKG=$LINUX_PIN" ||
			die "apt-get install $LINUX_PKG=$LINUX_PIN failed"
	else
		newest=$(head -1 <<<"$versions")
		[ -n "$newest" ] || die "the archive has no $LINUX_PKG; pin another 6.12 in scripts/lib.sh"
		warn "the archive no longer has $LINUX_PKG $LINUX_PIN; using $newest (update LINUX_PIN in scripts/lib.sh)"
		run_step "base: apt-get install $LINUX_PKG=$newest" "$log" \
			apt-get install -y -q "$LINUX_PKG=$newest" ||
			die "apt-get install $LINUX_PKG=$newest failed"
		LINUX_PIN=$newest
	fi
fi
tarball=$(dpkg -L "$LINUX_PKG" | grep -E '/linux-source-6\.12\.tar\.(xz|gz|bz2)$' | head -1)
[ -f "$tarball" ] || die "no source tarball in $LINUX_PKG"

rm -rf "$LINUX" "$LINUX.tmp"
mkdir -p "$LINUX.tmp"
run_step "base: extracting $tarball" "$log" tar -xf "$tarball" -C "$LINUX.tmp" --strip-components=1 ||
	die "cannot extract $tarball into build/linux.tmp: see $log"
mv "$LINUX.tmp" "$LINUX"

cd "$LINUX"
# Debian's packaging ignores everything at the top level (and keeps only
# debian/) and drops upstream's exceptions for tracked dot-files: undo that.
sed -i -e '/^\/\*$/d' -e '/^!\/debian\/$/d' .gitignore
cat >>.gitignore <<'IGN'

# We don't want to ignore the following even if they are dot-files
!.clang-format
!.clippy.toml
!.cocciconfig
!.editorconfig
!.get_maintainer.ignore
!.gitattributes
!.gitignore
!.mailmap
!.rustfmt.toml
IGN
git init -q -b master
# Commits made here are yours: take the identity of whoever runs this (the
# project's git config), so that make export signs the series with it. A
# machine with none (CI) only applies patches: a neutral committer will do.
if name=$(git -C "$ROOT" config user.name) && email=$(git -C "$ROOT" config user.email); then
	git config user.name "$name"
	git config user.email "$email"
else
	git config user.name "harness"
	git config user.email "harness@localhost"
fi
git config core.autocrlf false
git config gc.auto 0
commit_base() { git add -A && git commit -q -m "Linux $LINUX_PIN (Debian $LINUX_PKG)" && git tag base; }
run_step "base: committing the base tree to git" "$log" commit_base ||
	die "cannot commit the base in build/linux: see $log"
echo "base: committed $(git rev-list --count HEAD) commit, $(git ls-files | wc -l) files, tag base"
