#!/bin/bash
# Take Debian's pinned kernel source of the base (BASE=6.12: linux-source-6.12
# from the host's own suites; BASE=7.3: linux-source-7.3 from trixie-backports,
# downloaded with a separate apt state, the host untouched), extract it to
# build/linux (build/linux-7.3) and commit it there as the base of the
# patches (tag "base").
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if git -C "$LINUX" rev-parse -q --verify base >/dev/null 2>&1; then
	echo "base: ${LINUX#"$ROOT"/} already has tag base"
	exit 0
fi

step "base: $LINUX_PKG $LINUX_PIN"
log=$BUILD/logs/base$BSFX.log
mkdir -p "$BUILD/logs"
: >"$log"
# pick_version VERSIONS: the pinned version, or (warning) the newest there is
pick_version() {
	if grep -qxF "$LINUX_PIN" <<<"$1"; then
		echo "$LINUX_PIN"
		return
	fi
	local newest
	newest=$(head -1 <<<"$1")
	[ -n "$newest" ] || die "the archive has no $LINUX_PKG${LINUX_SUITE:+ in $LINUX_SUITE}: pin another in scripts/lib.sh"
	warn "the archive no longer has $LINUX_PKG $LINUX_PIN; using $newest (update LINUX_PIN in scripts/lib.sh)"
	echo "$newest"
}
if [ -z "$LINUX_SUITE" ]; then
	# a suite of the host: install the package (it only adds a tarball)
	installed=$(dpkg-query -W -f='${Version}' "$LINUX_PKG" 2>/dev/null || true)
	if [ "$installed" != "$LINUX_PIN" ]; then
		export DEBIAN_FRONTEND=noninteractive
		version=$(pick_version "$(apt-cache madison "$LINUX_PKG" | awk '{print $3}')")
		run_step -a "base: apt-get install $LINUX_PKG=$version" "$log" \
			apt-get install -y -q "$LINUX_PKG=$version" ||
			die "apt-get install $LINUX_PKG=$version failed"
	fi
	tarball=$(dpkg -L "$LINUX_PKG" | grep -E "/$LINUX_PKG\.tar\.(xz|gz|bz2)\$" | head -1)
else
	# another suite: download the package with apt state of its own
	# (build/apt-<suite>) and unpack it there; the host is not changed
	A=$BUILD/apt-${LINUX_SUITE%%-*}
	mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/deb"
	uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)
	uri=${uri:-http://deb.debian.org/debian}
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $LINUX_SUITE main" >"$A/sources.list"
	apt_opts=(-o "Dir::Etc::sourcelist=$A/sources.list" -o Dir::Etc::sourceparts=/dev/null
		-o "Dir::State::Lists=$A/lists" -o "Dir::Cache=$A/cache")
	deb=$(find "$A/deb" -name "${LINUX_PKG}_*.deb" | head -1)
	if [ -z "$deb" ] || ! dpkg-deb -f "$deb" Version | grep -qxF "$LINUX_PIN"; then
		run_step -a "base: apt-get update ($LINUX_SUITE, state in ${A#"$ROOT"/})" "$log" \
			apt-get "${apt_opts[@]}" update || die "apt-get update of $LINUX_SUITE failed: see $log"
		version=$(pick_version "$(apt-cache "${apt_opts[@]}" madison "$LINUX_PKG" | awk '{print $3}')")
		rm -f "$A"/deb/*.deb
		download() { cd "$A/deb" && apt-get "${apt_opts[@]}" download "$LINUX_PKG=$version"; }
		run_step -a "base: apt-get download $LINUX_PKG=$version" "$log" download ||
			die "apt-get download $LINUX_PKG=$version failed: see $log"
		deb=$(find "$A/deb" -name "${LINUX_PKG}_*.deb" | head -1)
	fi
	rm -rf "$A/unpacked"
	run_step -a "base: unpacking $(basename "$deb")" "$log" dpkg-deb -x "$deb" "$A/unpacked" ||
		die "dpkg-deb -x $deb failed"
	tarball=$(find "$A/unpacked" -regextype egrep -regex ".*/$LINUX_PKG\.tar\.(xz|gz|bz2)" | head -1)
	LINUX_PIN=$(dpkg-deb -f "$deb" Version)
fi
[ -f "${tarball:-}" ] || die "no source tarball in $LINUX_PKG"

rm -rf "$LINUX" "$LINUX.tmp"
mkdir -p "$LINUX.tmp"
run_step -a "base: extracting $tarball" "$log" tar -xf "$tarball" -C "$LINUX.tmp" --strip-components=1 ||
	die "cannot extract $tarball into ${LINUX#"$ROOT"/}.tmp: see $log"
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
run_step -a "base: committing the base tree to git" "$log" commit_base ||
	die "cannot commit the base in ${LINUX#"$ROOT"/}: see $log"
[ -z "$LINUX_SUITE" ] || rm -rf "$A/unpacked"
echo "base: committed $(git rev-list --count HEAD) commit, $(git ls-files | wc -l) files, tag base"
