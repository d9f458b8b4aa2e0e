#!/bin/bash
# NIPA-style checks of series/ (BASE=7.3: net-next/), patch by patch, then
# of the whole series. One line per patch per check: PASS/FAIL <check> <patch>: why.
# LINT_BUILD=0: only the checks that need no kernel build (the builds,
# sparse and coccicheck are reported as skipped).
# LINT_PER_PATCH=full (default) builds the whole arm64-64k kernel at base and
# again after each patch (incrementally); LINT_PER_PATCH=dirs (make check)
# compiles, after each patch, only the directories whose C files, Makefiles
# or Kconfig it changes (every directory the series touches when it changes a
# header), then builds the whole kernel once, at the series' last patch: a
# broken link or a header breaking an untouched file in between is then seen
# only if it lasts to the end. Measured cold on a slow 2-core machine: the
# full build at base took 18 min and the 37 patches 39; in dirs mode the
# series' directories at base take 2 min and a patch 5-20 s.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RESULTS=${RESULTS:-$BUILD/results/lint$BSFX.txt}
mkdir -p "$(dirname "$RESULTS")"
: >"$RESULTS"
"$ROOT/scripts/tree.sh" >&2
cd "$LINUX"
[ -z "$(git status --porcelain --untracked-files=no)" ] ||
	die "${LINUX#"$ROOT"/} has uncommitted changes: commit them, then make lint"
if [ -z "$(git rev-list base..HEAD)" ]; then
	echo "lint: ${PATCHES#"$ROOT"/}/ has no patches on Linux $BASE: nothing to check"
	exit 0
fi
branch=$(git symbolic-ref -q --short HEAD || git rev-parse HEAD)
restore() { git checkout -q "$branch"; }
trap restore EXIT
LDIR=$BUILD/lint$BSFX
mkdir -p "$LDIR"

# NIPA's checkpatch ignore list
CP_IGNORE=COMMIT_LOG_LONG_LINE,MACRO_ARG_REUSE,ALLOC_SIZEOF_STRUCT,NO_AUTHOR_SIGN_OFF,GIT_COMMIT_ID,CAMELCASE
# Debian's source has no upstream history: checkpatch cannot look up the
# commit a Fixes: tag names
CP_IGNORE=$CP_IGNORE,UNKNOWN_COMMIT_ID
# ... and FILE_PATH_CHANGES, which asks a question: the maintainers check
# below answers it (every file a patch adds has a MAINTAINERS entry).
CP_IGNORE=$CP_IGNORE,FILE_PATH_CHANGES

LINT_BUILD=${LINT_BUILD:-1}
LINT_PER_PATCH=${LINT_PER_PATCH:-full}
case $LINT_PER_PATCH in full | dirs) ;; *) die "LINT_PER_PATCH=$LINT_PER_PATCH: full or dirs" ;; esac
result() { # result PASS|FAIL|SKIP check name why
	printf '%s %-12s %s: %s\n' "$1" "$2" "$3" "$4" | tee -a "$RESULTS"
}
files_of() { git diff-tree --no-commit-id --name-only -r --diff-filter=d "$1"; }
kdoc_count() { # warnings of kernel-doc on the given files (those that exist)
	local f n=0
	for f in "$@"; do
		[ -f "$f" ] || continue
		n=$((n + $(scripts/kernel-doc -Wall -none "$f" 2>&1 | grep -c 'warning' || true)))
	done
	echo $n
}
built_objs() { # FILE...: the objects the config's last build linked: of the
	# whole kernel (vmlinux.a, modules.order), or with LINT_PER_PATCH=dirs,
	# of these files' directories (each one's built-in.a and modules.order,
	# which dir_build removes before it builds the directory: kbuild makes
	# them again only where the config descends)
	local d lists=(.)
	[ "$LINT_PER_PATCH" = full ] ||
		mapfile -t lists < <(printf '%s\n' "$@" | xargs -r -n1 dirname | sort -u)
	for d in "${lists[@]}"; do
		# (ar prints a thin archive's members relative to the current
		# directory: from $KOUT they are paths in the tree, as below)
		if [ "$d" = . ]; then
			(cd "$KOUT" && ar t vmlinux.a 2>/dev/null)
		else
			(cd "$KOUT" && ar t "$d/built-in.a" 2>/dev/null)
		fi
		# (a directory the config does not descend into has neither: no
		# objects, not a failure)
		sed 's/\.o$/.mod/' "$KOUT/$d/modules.order" 2>/dev/null |
			while read -r m; do cat "$KOUT/$m" 2>/dev/null; done || true
	done | tr ' ' '\n' | sort -u
}
unbuilt() { # the given .c files that the config does not build
	local f built
	built=$(built_objs "$@")
	for f in "$@"; do
		[ -f "$f" ] && ! grep -qxF "${f%.c}.o" <<<"$built" && echo "$f"
	done
	true
}
sparse_count() { # sparse warnings on the objects of the given .c files
	local f objs=() built
	# only objects the config builds: a single-target build of one it does
	# not (e.g. behind a hidden symbol nothing selects yet) cannot compile
	built=$(built_objs "$@")
	for f in "$@"; do
		[ -f "$f" ] && grep -qxF "${f%.c}.o" <<<"$built" && objs+=("${f%.c}.o")
	done
	((${#objs[@]})) || { echo 0; return; }
	if ! run_step "lint: sparse on ${objs[*]}" "$LDIR/sparse.log" \
		kmake "$KOUT" C=2 CHECK=sparse "${objs[@]}"; then
		echo "sparse failed: see $LDIR/sparse.log" >&2
		echo 999999 # counted as new warnings: the check did not run
		return
	fi
	# only what sparse says about the files asked for (C=2 may check others)
	local pats=()
	for f in "$@"; do pats+=(-e "$f:"); done
	grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' "$LDIR/sparse.log" | grep -F "${pats[@]}" |
		grep -vc ' warning: .*\[-W' || true
}
compile_test() { # FILE...: W=1 and sparse warnings in the given .c files (those
	# that exist) compiled in a tree configured with COMPILE_TEST and every
	# symbol the series has added so far, as an allmodconfig build would
	# compile them: for the files the guest config does not build, so that
	# patch N's code is compiled at patch N, not only once a driver selects
	# its symbol patches later. 999999: the build failed (why on stderr).
	local ct=$LDIR/compile-test f objs=() pats=() en=()
	for f; do [ -f "$f" ] && objs+=("${f%.c}.o") pats+=(-e "$f:"); done
	((${#objs[@]})) || { echo 0; return; }
	mkdir -p "$ct"
	cp "$KOUT/.config" "$ct/.config"
	while read -r f; do en+=(-e "$f"); done < <(git diff base..HEAD -- '*Kconfig*' |
		sed -n 's/^+[[:space:]]*\(menu\)\{0,1\}config \([A-Z0-9_]*\).*/\2/p' | sort -u)
	scripts/config --file "$ct/.config" -e COMPILE_TEST "${en[@]}"
	if ! run_step "lint: configuring the COMPILE_TEST build" "$LDIR/compile-test.log" \
		kmake "$ct" olddefconfig ||
		! run_step "lint: COMPILE_TEST build of ${objs[*]}" "$LDIR/compile-test.log" \
			kmake "$ct" W=1 C=2 CHECK=sparse "${objs[@]}"; then
		echo "the COMPILE_TEST build fails: $(grep -m1 -E ': error:' "$LDIR/compile-test.log" ||
			tail -1 "$LDIR/compile-test.log")" >&2
		echo 999999
		return
	fi
	grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' "$LDIR/compile-test.log" |
		sed "s|^$KSRC/||" | grep -cF "${pats[@]}" || true
}
cocci_count() { # coccicheck reports for a directory or a file, cached by its git hash
	local path=$1 h
	h=$(git rev-parse "HEAD:$path" 2>/dev/null) || { echo 0; return; }
	if [ ! -f "$LDIR/cocci-$h" ]; then
		# M= is read by spatch relative to the build directory, which has
		# no sources with O=: give it the path in the source tree.
		if run_step "lint: coccicheck $path at $(git describe --always --tags)" "$LDIR/cocci.log" \
			kmake "$KOUT" coccicheck MODE=report M="$KSRC/$path" J="$(nproc)"; then
			sed -n "s|^$KSRC/\($path.*:[0-9][0-9]*:\)|\1|p" "$LDIR/cocci.log" >"$LDIR/cocci-$h"
		else
			echo "coccicheck failed on $path: see $LDIR/cocci.log" >&2
			echo 999999 # counted as new reports: the check did not run
			return
		fi
	fi
	wc -l <"$LDIR/cocci-$h"
}

# Per patch, on arm64-64k: build incrementally from base, one patch at a time.
CONFIG=arm64-64k
config_env $CONFIG
KSRC=$LINUX
KOUT=$(kbuild_dir $CONFIG 1 0)
mapfile -t commits < <(git rev-list --reverse base..HEAD)
step "lint: ${#commits[@]} patches, per-patch checks on $CONFIG"
# The kernel's directories where the series changes C files (LINT_PER_PATCH=dirs)
kernel_dirs_re='^(arch|block|crypto|drivers|fs|kernel|lib|mm|net|security|virt)/'
mapfile -t series_dirs < <(git diff --name-only --diff-filter=d base..HEAD -- '*.c' |
	grep -E "$kernel_dirs_re" | xargs -r -n1 dirname | sort -u)
patch_dirs() { # COMMIT: the directories LINT_PER_PATCH=dirs compiles after it
	local f
	{
		for f in $(files_of "$1"); do
			case $f in
			*.c | */Makefile | */Kbuild | */Kconfig*) dirname "$f" ;;
			*.h) printf '%s\n' "${series_dirs[@]}" ;;
			esac
		done
	} | grep -E "$kernel_dirs_re" | sort -u |
		while read -r f; do [ -f "$f/Makefile" ] && echo "$f"; done
}
dir_build() { # LOG DIR...: W=1 build of the directories; new warnings in $KOUT/new-warnings
	local log=$1 d top
	shift
	: >"$KOUT/new-warnings"
	(($#)) || return 0
	for d; do rm -f "$KOUT/$d/built-in.a" "$KOUT/$d/modules.order"; done
	mapfile -t top < <(outermost_dirs "$@")
	kmake "$KOUT" W=1 "${top[@]/%//}" >"$log" 2>&1 || return
	"$ROOT/scripts/warnings.py" update "$KOUT/warnings.json" "$log" "$KSRC" >"$KOUT/new-warnings"
}
# LINT_FROM=N (local use): per-patch checks from patch N on; the patches
# before it were checked by an earlier run. make check checks them all.
LINT_FROM=${LINT_FROM:-1}
if ((LINT_FROM > 1)); then
	git checkout -q --detach "${commits[$((LINT_FROM - 2))]}"
	echo "lint: patches 1-$((LINT_FROM - 1)) not checked (LINT_FROM=$LINT_FROM)" >&2
else
	git checkout -q --detach base
fi
if ((LINT_BUILD)) && [ "$LINT_PER_PATCH" = full ]; then
	CONFIG=$CONFIG "$ROOT/scripts/kernel.sh" >&2 || die "the $(git describe) kernel does not build for $CONFIG"
elif ((LINT_BUILD)); then
	# the warnings of the series' directories before the first patch
	mapfile -t d0 < <(for d in "${series_dirs[@]}"; do [ -f "$d/Makefile" ] && echo "$d"; done)
	{ CONFIG=$CONFIG CONFIG_ONLY=1 "$ROOT/scripts/kernel.sh" >&2 &&
		run_step "lint: building ${d0[*]} for $CONFIG at $(git describe --always --tags) (W=1)" "$LDIR/build-0.log" \
			dir_build "$LDIR/build-0-kbuild.log" "${d0[@]}"; } ||
		die "${d0[*]} do not build for $CONFIG at $(git describe --always --tags): see $LDIR/build-0-kbuild.log"
fi
i=0
for c in "${commits[@]}"; do
	i=$((i + 1))
	((i >= LINT_FROM)) || continue
	name=$(printf '%04d %s' $i "$(git log -1 --format=%s "$c" | cut -c1-60)")
	echo "lint: patch $i/${#commits[@]}: $(git log -1 --format=%s "$c")" >&2
	mapfile -t files < <(files_of "$c")
	mapfile -t cfiles < <(printf '%s\n' "${files[@]}" | grep '\.c$' || true)
	mapfile -t srcs < <(printf '%s\n' "${files[@]}" | grep -E '\.[ch]$' || true)
	# before the patch
	kd_before=$(kdoc_count "${srcs[@]}")
	if ((LINT_BUILD)); then
		sp_before=$(sparse_count "${cfiles[@]}")
		mapfile -t nb < <(unbuilt "${cfiles[@]}")
		ct_before=$(compile_test "${nb[@]}")
	fi

	if ! git checkout -q --detach "$c"; then
		result FAIL applies "$name" "git checkout failed"
		continue
	fi
	result PASS applies "$name" "applies on the previous patch"
	# shellcheck disable=SC2097,SC2098 # (the same value)
	if ((!LINT_BUILD)); then
		result SKIP build "$name" "LINT_BUILD=0"
	elif [ "$LINT_PER_PATCH" = dirs ]; then
		mapfile -t pd < <(patch_dirs "$c")
		if ! git diff --quiet "$c^" "$c" -- '*Kconfig*' &&
			! CONFIG=$CONFIG CONFIG_ONLY=1 "$ROOT/scripts/kernel.sh" >"$LDIR/build-$i.log" 2>&1; then
			result FAIL build "$name" "$CONFIG does not configure: see $LDIR/build-$i.log"
		elif ((${#pd[@]} == 0)); then
			result PASS build "$name" "$CONFIG: the patch changes no kernel directory"
		elif ! run_step "lint: building ${pd[*]} for $CONFIG with patch $i" "$LDIR/build-$i.log" \
			dir_build "$LDIR/build-$i-kbuild.log" "${pd[@]}"; then
			result FAIL build "$name" "$CONFIG W=1: ${pd[*]} do not build: $(build_error "$LDIR/build-$i-kbuild.log")"
		elif nw=$(wc -l <"$KOUT/new-warnings") && ((nw == 0)); then
			result PASS build "$name" "$CONFIG W=1 build of ${pd[*]} (what the config builds there): no new warnings"
		else
			result FAIL build "$name" "$CONFIG W=1 (${pd[*]}): $nw new warnings: $(head -3 "$KOUT/new-warnings" | tr '\n' ' ')"
		fi
	elif CONFIG=$CONFIG run_step "lint: building $CONFIG with patch $i" "$LDIR/build-$i.log" \
		"$ROOT/scripts/kernel.sh"; then
		nw=$(wc -l <"$KOUT/new-warnings")
		if ((nw == 0)); then
			result PASS build "$name" "$CONFIG W=1 builds, no new warnings"
		else
			result FAIL build "$name" "$CONFIG W=1: $nw new warnings: $(head -3 "$KOUT/new-warnings" | tr '\n' ' ')"
		fi
	else
		result FAIL build "$name" "$CONFIG build fails: $(build_error "$LDIR/build-$i.log")"
	fi
	cp=$(git format-patch -1 --stdout "$c" | scripts/checkpatch.pl --strict --max-line-length=80 \
		--ignore=$CP_IGNORE --showfile -q - 2>&1 || true)
	# Code generated by ynl-gen is checked by regenerating it (below), not
	# by checkpatch: mainline keeps its long lines as generated.
	for f in $(git diff --name-only --diff-filter=AM "$c^" "$c"); do
		if head -5 "$f" 2>/dev/null | grep -q 'Do not edit directly, auto-generated from:'; then
			cp=$(grep -vF "$f:" <<<"$cp" || true)
		fi
	done
	if grep -qE '^(ERROR|WARNING|CHECK):|^[^ ]+:[0-9]+: (ERROR|WARNING|CHECK):' <<<"$cp"; then
		result FAIL checkpatch "$name" "$(grep -E '(ERROR|WARNING|CHECK):' <<<"$cp" | head -2 | tr '\n' ' ')"
	else
		result PASS checkpatch "$name" "checkpatch --strict clean"
	fi
	kd_after=$(kdoc_count "${srcs[@]}")
	if ((kd_after > kd_before)); then
		result FAIL kernel-doc "$name" "kernel-doc warnings $kd_before -> $kd_after"
	else
		result PASS kernel-doc "$name" "kernel-doc: $kd_after warnings (was $kd_before)"
	fi
	if ((!LINT_BUILD)); then
		result SKIP sparse "$name" "LINT_BUILD=0"
	elif sp_after=$(sparse_count "${cfiles[@]}") && ((sp_after > sp_before)); then
		result FAIL sparse "$name" "sparse warnings $sp_before -> $sp_after"
	else
		nbs=$(unbuilt "${cfiles[@]}" | xargs)
		result PASS sparse "$name" "sparse: $sp_after warnings (was $sp_before) in ${#cfiles[@]} files${nbs:+ (not built by $CONFIG at this patch: $nbs)}"
	fi
	if ((!LINT_BUILD)); then
		result SKIP compile-test "$name" "LINT_BUILD=0"
	elif mapfile -t nb < <(unbuilt "${cfiles[@]}") && ((${#nb[@]} == 0)); then
		result PASS compile-test "$name" "$CONFIG builds every C file the patch changes"
	elif ct_after=$(compile_test "${nb[@]}" 2>"$LDIR/compile-test.why") && ((ct_after > ct_before)); then
		result FAIL compile-test "$name" "${nb[*]} (not built by $CONFIG), with COMPILE_TEST: $(cat "$LDIR/compile-test.why")W=1/sparse warnings $ct_before -> $ct_after (log: $LDIR/compile-test.log)"
	else
		result PASS compile-test "$name" "not built by $CONFIG at this patch, built with COMPILE_TEST: W=1/sparse warnings $ct_after (was $ct_before): ${nb[*]}"
	fi
	unowned=
	while IFS= read -r f; do
		[ -n "$f" ] || continue
		scripts/get_maintainer.pl --nogit --nogit-fallback -f "$f" 2>/dev/null |
			grep -qE '\((maintainer|supporter|reviewer):' || unowned+="$f "
	done < <(git diff-tree --no-commit-id --name-only -r --diff-filter=A "$c")
	if [ -n "$unowned" ]; then
		result FAIL maintainers "$name" "no MAINTAINERS entry covers: $unowned"
	else
		result PASS maintainers "$name" "every added file has a MAINTAINERS entry"
	fi
	if git show --format= "$c" -- '*.c' | grep -qE '^\+.*\binline\b'; then
		result FAIL inline "$name" "adds 'inline' in a .c file"
	else
		result PASS inline "$name" "no new inline in .c files"
	fi
	trailer=$(git log -1 --format=%B "$c" | sed '/^$/d' | tail -1)
	if [[ $trailer == Signed-off-by:* ]]; then
		result PASS signoff "$name" "ends with $trailer"
	else
		result FAIL signoff "$name" "no Signed-off-by as the last trailer"
	fi
done
restore
trap - EXIT

# Whole series: the other configs, W=1 warnings compared with base.
mapfile -t allc < <(git diff --name-only --diff-filter=d base..HEAD -- '*.c')
mapfile -t dirs < <(printf '%s\n' "${allc[@]}" | grep . | xargs -r -n1 dirname | sort -u)
series_name="series (${#commits[@]} patches)"
base_log() { # config file -> the W=1 log of compiling file at base (once a run)
	local cfg=$1 f=$2 bout log
	log=$LDIR/base-$cfg-$(tr '/' '_' <<<"$f").log
	if [ ! -f "$log" ]; then
		bout=$(kbuild_dir "$cfg" 0 0)
		[ -f "$bout/.harness-config" ] || CONFIG=$cfg SERIES=0 CONFIG_ONLY=1 "$ROOT/scripts/kernel.sh" >&2
		rm -f "$bout/${f%.c}.o"
		KSRC=$LINUX_BASE run_step "lint: $f at base ($cfg, W=1)" "$log" \
			kmake "$bout" W=1 "${f%.c}.o" || true
	fi
	echo "$log"
}
not_in_base() { # config: print the warnings of the series build that base lacks
	local cfg=$1 w f msg key
	declare -A seen=()
	while IFS= read -r w; do
		f=${w%%: *} msg=${w#*: }
		git cat-file -e "base:$f" 2>/dev/null || { echo "$w"; continue; }
		# kernel-doc warnings (no -W flag) depend only on the file's own text
		[[ $msg != *']' ]] && git diff --quiet base..HEAD -- "$f" && continue
		[[ $f == *.c ]] || continue # a header warning: its .c is not known; not counted as new
		# as many of this warning in this file as base has are not new
		key="$f: $msg"
		seen[$key]=$((${seen[$key]:-0} + 1))
		if ((seen[$key] > $(grep -F -- "$msg" "$(base_log "$cfg" "$f")" | grep -cF "${f}:" || true))); then
			echo "$w"
		fi
	done < <("$ROOT/scripts/warnings.py" list "$KOUT/warnings.json")
}
# (LINT_PER_PATCH=dirs: arm64-64k's whole build, at the last patch, is here)
whole=(x86_64 arm64-4k arm64-16k)
[ "$LINT_PER_PATCH" = full ] || whole=(arm64-64k "${whole[@]}")
for cfg in "${whole[@]}"; do
	if ((!LINT_BUILD)); then
		result SKIP build "$series_name" "$cfg: LINT_BUILD=0"
		continue
	fi
	config_env "$cfg"
	KOUT=$(kbuild_dir "$cfg" 1 0)
	if [ "$cfg" = x86_64 ] || [ "$cfg" = arm64-64k ]; then
		CONFIG=$cfg run_step "lint: building $cfg with the series" "$LDIR/build-$cfg.log" \
			"$ROOT/scripts/kernel.sh" ||
			{ result FAIL build "$series_name" "$cfg does not build: see $KOUT/build.log"; continue; }
		what="full build"
	else
		# The 4K and 16K page builds compile what depends on the page
		# size: the driver's RX buffer layout and its page pools. The
		# other directories the series changes (net/core, net/shaper,
		# netdevsim) do not, and are compiled with W=1 at every patch
		# (arm64, 64K pages) and in the x86_64 (4K) build above: on a
		# fresh machine that spares compiling net/core twice more.
		mapfile -t pdirs < <(printf '%s\n' "${dirs[@]}" | grep "^${LINT_PAGESIZE_DIRS:-drivers/net/ethernet/microsoft}" || true)
		if ((${#pdirs[@]} == 0)); then
			result PASS build "$series_name" "$cfg: the series changes no page-size-dependent C file"
			continue
		fi
		CONFIG=$cfg CONFIG_ONLY=1 run_step "lint: configuring $cfg" "$LDIR/build-$cfg.log" \
			"$ROOT/scripts/kernel.sh" ||
			{ result FAIL build "$series_name" "$cfg does not configure: see $LDIR/build-$cfg.log"; continue; }
		run_step -p kbuild_progress "lint: building ${pdirs[*]} for $cfg (W=1)" "$KOUT/build.log" \
			kmake "$KOUT" W=1 "${pdirs[@]/%//}" ||
			{ result FAIL build "$series_name" "$cfg: ${pdirs[*]} do not build: see $KOUT/build.log"; continue; }
		"$ROOT/scripts/warnings.py" update "$KOUT/warnings.json" "$KOUT/build.log" "$KSRC" >/dev/null
		what="build of ${pdirs[*]}"
	fi
	rm -f "$LDIR/base-$cfg-"*.log
	mapfile -t new < <(not_in_base "$cfg")
	if ((${#new[@]})); then
		result FAIL build "$series_name" "$cfg W=1 ($what): ${#new[@]} warnings not in base: ${new[0]}"
	else
		result PASS build "$series_name" "$cfg W=1 ($what): no warnings beyond base"
	fi
done

# Generated netlink code must match its YAML spec.
if run_step "lint: regenerating the YNL code" "$LDIR/ynl-regen.log" tools/net/ynl/ynl-regen.sh -f &&
	[ -z "$(git status --porcelain --untracked-files=no)" ]; then
	result PASS ynl-regen "$series_name" "regenerating from Documentation/netlink/specs leaves no diff"
else
	result FAIL ynl-regen "$series_name" "regeneration differs: $(git status --porcelain --untracked-files=no | head -3 | tr '\n' ' ')(log: $LDIR/ynl-regen.log)"
	git checkout -q -- .
fi

# coccicheck, base against the series, on what the series changes in
# drivers/ and net/: a whole directory when it is small (one spatch run per
# rule for all its files), each changed file otherwise (net/core has 60
# files; dev.c alone takes two minutes). The base is checked only where the
# series has reports, since zero reports cannot be more than base had.
mapfile -t ccpaths < <(for d in "${dirs[@]}"; do
	case $d in drivers/* | net/*) ;; *) continue ;; esac
	if (($(git ls-files "$d/*.c" | grep -c "^$d/[^/]*\.c$") <= 10)); then
		echo "$d"
	else
		printf '%s\n' "${allc[@]}" | grep "^$d/[^/]*\.c$"
	fi
done)
((LINT_BUILD)) || ccpaths=()
# The canary: a file outside the tree with a NULL check before kfree(),
# which coccinelle's ifnullfree rule reports. If it is not reported, the
# way this script calls coccicheck sees nothing (it once ran spatch on the
# build directory, where there are no sources, and always counted 0).
cc_canary=$LDIR/cocci-canary cc_canary_fail=
if ((${#ccpaths[@]})); then
	mkdir -p "$cc_canary"
	printf '#include <linux/slab.h>\n\nvoid canary(void *p)\n{\n\tif (p)\n\t\tkfree(p);\n}\n' \
		>"$cc_canary/canary.c"
	if ! kmake "$KOUT" coccicheck MODE=report M="$cc_canary" \
		COCCI="$KSRC/scripts/coccinelle/free/ifnullfree.cocci" 2>&1 |
		grep "^$cc_canary/canary.c:[0-9]*:" >/dev/null; then
		cc_canary_fail="coccicheck does not report the canary $cc_canary/canary.c, so it would see nothing; "
		ccpaths=()
	fi
fi
declare -A cc_after=()
for p in "${ccpaths[@]}"; do cc_after[$p]=$(cocci_count "$p"); done
trap restore EXIT
git checkout -q --detach base
cc_fail=$cc_canary_fail
for p in "${ccpaths[@]}"; do
	((cc_after[$p] > 0)) || continue
	n=$(cocci_count "$p")
	((cc_after[$p] > n)) && cc_fail+="$p $n -> ${cc_after[$p]}; "
done
restore
trap - EXIT
if ((!LINT_BUILD)); then
	result SKIP coccicheck "$series_name" "LINT_BUILD=0"
elif [ -n "$cc_fail" ]; then
	result FAIL coccicheck "$series_name" "new coccinelle reports: $cc_fail(reports: $LDIR/cocci-*)"
else
	result PASS coccicheck "$series_name" "no new reports in ${ccpaths[*]}"
fi

results_summary lint
