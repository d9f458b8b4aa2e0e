#!/bin/bash
# Debian's iproute2 source (sid, >= 7.3) + iproute2/patches (additions to
# upstream's netshaper command), built for the guests: [ARCH=x86_64|arm64]
# (default: both) -> build/overlay/<arch>/iproute2.cpio.gz with
# /usr/sbin/netshaper and its man page, which scripts/vm.sh appends to the
# guest's initramfs (/usr/sbin comes before Debian's /usr/bin in PATH).
# Without patches the overlay is empty: the guests run Debian's netshaper.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

I=$BUILD/iproute2
SRC=$I/src
PATCHES=$ROOT/iproute2/patches
ARCHES=${ARCH:-x86_64 arm64}
SUITE=sid
MIN_VERSION=7.3

patch_files() { find "$PATCHES" -name '*.patch' 2>/dev/null | sort; }
stamp=$( (cat "$0"; for f in $(patch_files); do basename "$f"; cat "$f"; done) | sha256sum | cut -c1-16)
todo=
for a in $ARCHES; do
	case "$a" in
	x86_64 | arm64) ;;
	*) die "unknown ARCH '$a': use x86_64 or arm64" ;;
	esac
	out=$BUILD/overlay/$a/iproute2.cpio.gz
	[ -f "$out" ] && [ "$(cat "$out.stamp" 2>/dev/null)" = "$stamp" ] || todo="$todo $a"
done
if [ -z "$todo" ]; then
	echo "iproute2: up to date"
	exit 0
fi
if [ -z "$(patch_files)" ]; then
	for a in $todo; do
		out=$BUILD/overlay/$a/iproute2.cpio.gz
		mkdir -p "$(dirname "$out")"
		cpio -o -H newc --quiet </dev/null | gzip -1 >"$out.tmp"
		mv "$out.tmp" "$out"
		echo "$stamp" >"$out.stamp"
	done
	echo "iproute2: no iproute2/patches: the guests run Debian's netshaper as it is (empty overlay)"
	exit 0
fi
"$ROOT/scripts/deps.sh" >/dev/null

step "iproute2: Debian source + iproute2/patches"
# a tree of an older source (bookworm's 6.1) is fetched again
have=$(git -C "$SRC" log -1 --format=%s pristine 2>/dev/null | sed -n 's/^Debian iproute2 \(.*\) source$/\1/p')
if [ -z "$have" ] || ! dpkg --compare-versions "$have" ge "$MIN_VERSION"; then
	rm -rf "$I/dl" "$SRC"
	# sid's source, without touching the host's apt sources or state
	apt=$I/apt
	mkdir -p "$I/dl" "$apt/lists/partial" "$apt/cache"
	uri=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
	echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $SUITE main" >"$apt/sources.list"
	A=(-o Dir::Etc::sourcelist="$apt/sources.list" -o Dir::Etc::sourceparts=/dev/null
		-o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache"
		-o Acquire::Check-Valid-Until=false)
	apt-get "${A[@]}" update -qq >"$I/apt.log" 2>&1 ||
		die "apt-get update for $SUITE's sources failed: see build/iproute2/apt.log"
	(cd "$I/dl" && apt-get "${A[@]}" source -qq --download-only iproute2) >>"$I/apt.log" 2>&1 ||
		die "apt-get source iproute2 ($SUITE) failed: see build/iproute2/apt.log"
	dsc=$(ls "$I"/dl/iproute2_*.dsc)
	v=$(basename "$dsc" .dsc)
	dpkg --compare-versions "${v#iproute2_}" ge "$MIN_VERSION" ||
		die "Debian's iproute2 source in $SUITE is ${v#iproute2_}, the patches need >= $MIN_VERSION"
	dpkg-source -x "$dsc" "$SRC" >"$I/dpkg-source.log" 2>&1 ||
		die "dpkg-source -x iproute2 failed: see build/iproute2/dpkg-source.log"
	ver=$(basename "$dsc" .dsc)
	(cd "$SRC" && git init -q && git add -A &&
		git -c user.name=h -c user.email=h@h commit -qm "Debian iproute2 ${ver#iproute2_} source" &&
		git tag pristine) || die "cannot make the pristine iproute2 git tree"
fi
git -C "$SRC" am --abort >/dev/null 2>&1 || true
git -C "$SRC" checkout -q --detach pristine
git -C "$SRC" reset -q --hard pristine
git -C "$SRC" clean -qfdx
for p in $(patch_files); do
	git -C "$SRC" -c user.name=h -c user.email=h@h am -q --committer-date-is-author-date "$p" >/dev/null 2>&1 || {
		git -C "$SRC" am --abort >/dev/null 2>&1 || true
		die "iproute2/patches/$(basename "$p") does not apply to Debian's iproute2 source"
	}
done
echo "iproute2: $(git -C "$SRC" rev-list --count pristine..HEAD) patches applied"

for a in $todo; do
	case "$a" in
	x86_64) triplet=x86_64-linux-gnu machine='X86-64' ;;
	arm64) triplet=aarch64-linux-gnu machine=AArch64 ;;
	esac
	step "iproute2: netshaper for $a"
	b=$I/build-$a
	rm -rf "$b"
	mkdir -p "$b"
	git -C "$SRC" archive HEAD | tar -x -C "$b"
	log=$I/build-$a.log
	# Only the target's libraries: pkg-config looks in its multiarch dir.
	(cd "$b" && CC="ccache $triplet-gcc" AR="$triplet-ar" \
		PKG_CONFIG_LIBDIR=/usr/lib/$triplet/pkgconfig:/usr/share/pkgconfig \
		./configure --libbpf_force off) >"$log" 2>&1 ||
		die "iproute2 configure failed for $a: see ${log#"$ROOT"/}"
	grep -q '^HAVE_MNL:=y' "$b/config.mk" ||
		die "iproute2 for $a: libmnl not found (scripts/deps.sh installs libmnl-dev:${a/x86_64/amd64})"
	run_step -a "iproute2: building its libraries for $a" "$log" \
		make -C "$b" -j"$(nproc)" SUBDIRS=lib ||
		die "iproute2 lib build failed for $a: see ${log#"$ROOT"/}"
	# The new command builds without a warning.
	make -C "$b" SUBDIRS=netshaper LDFLAGS=-Wl,--as-needed >"$log.netshaper" 2>&1 ||
		{ grep -E 'error' "$log.netshaper" | head -20 >&2; die "netshaper build failed for $a: see ${log#"$ROOT"/}.netshaper"; }
	! grep -q 'warning:' "$log.netshaper" ||
		{ grep 'warning:' "$log.netshaper" | head -20 >&2; die "netshaper builds with warnings for $a"; }
	bin=$b/netshaper/netshaper
	"$triplet-readelf" -h "$bin" | grep -q "Machine: *.*$machine" ||
		die "netshaper for $a is not an $machine binary"
	# The guest rootfs has libmnl0 (iproute2 depends on it) and libc only.
	extra=$("$triplet-readelf" -d "$bin" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' |
		grep -vxE 'libmnl\.so\.0|libc\.so\.6' || true)
	[ -z "$extra" ] || die "netshaper for $a needs libraries the guest lacks: $extra"

	stage=$I/stage-$a
	rm -rf "$stage"
	install -D -m 755 "$bin" "$stage/usr/sbin/netshaper"
	"$triplet-strip" "$stage/usr/sbin/netshaper"
	install -D -m 644 "$b/man/man8/netshaper.8" "$stage/usr/share/man/man8/netshaper.8"
	gzip -9n "$stage/usr/share/man/man8/netshaper.8"
	out=$BUILD/overlay/$a/iproute2.cpio.gz
	mkdir -p "$(dirname "$out")"
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet | gzip -1 >"$out.tmp")
	mv "$out.tmp" "$out"
	echo "$stamp" >"$out.stamp"
	rm -rf "$stage"
	echo "iproute2: ${out#"$ROOT"/} ($(du -h "$out" | cut -f1))"
done
