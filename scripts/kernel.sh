#!/bin/bash
# Build one guest kernel: CONFIG=<name> [SERIES=0|1] [DEBUG=0|1].
# allnoconfig + configs/ fragments, W=1, modules installed under the build dir.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel_env
frags=$FRAGMENTS
[ "$DEBUG" = 1 ] && frags="$frags $ROOT/configs/debug"

if [ "$SERIES" = 0 ]; then
	"$ROOT/scripts/worktree-base.sh"
else
	[ -e "$KSRC/.git" ] || "$ROOT/scripts/tree.sh"
fi

step "kernel: $CONFIG (Linux $BASE)$([ "$DEBUG" = 1 ] && echo ' debug')$([ "$SERIES" = 0 ] && echo ' (base, no series)') -> ${OUT#"$ROOT"/}"
mkdir -p "$OUT"
# the fragments, and the tree's Kconfig files (a patch may add a symbol)
cfgstamp=$( (stamp_of $frags; git -C "$KSRC" ls-files -s -- '*Kconfig*') | sha256sum | cut -c1-16)
srcstamp=$(cd "$KSRC" && { git rev-parse HEAD; git status --porcelain; git diff; } | sha256sum | cut -c1-16)
if [ -f "$OUT/.harness-built" ] && [ "$(cat "$OUT/.harness-built")" = "$cfgstamp $srcstamp" ] &&
	[ -z "${FORCE:-}" ]; then
	echo "kernel: up to date"
	exit 0
fi

if [ ! -f "$OUT/.config" ] || [ "$(cat "$OUT/.harness-config" 2>/dev/null)" != "$cfgstamp" ]; then
	# shellcheck disable=SC2086
	configure() {
		kmake "$OUT" allnoconfig &&
			(cd "$OUT" && KCONFIG_CONFIG=.config "$KSRC/scripts/kconfig/merge_config.sh" \
				-m -O "$OUT" .config $frags) &&
			kmake "$OUT" olddefconfig
	}
	run_step "kernel: configuring $CONFIG: allnoconfig + $(for f in $frags; do basename "$f"; done | xargs)" \
		"$OUT/config.log" configure || die "configuring $CONFIG failed: see $OUT/config.log"
	# Every symbol asked for must have landed; debug extras may not exist
	# on every arch (KASAN), which is a warning.
	missing=0
	for f in $frags; do
		while IFS= read -r line; do
			grep -qxF "$line" "$OUT/.config" && continue
			sym=${line%%=*}
			# a symbol the series adds is not there in the base (or in a
			# patch before the one adding it); any other miss is an error
			if ! grep -rqx --include='Kconfig*' "config ${sym#CONFIG_}" "$KSRC" &&
				git -C "$LINUX" grep -qE "^config ${sym#CONFIG_}$" master -- '*Kconfig*'; then
				echo "note: ${sym} comes with a patch of the series, skipped here"
				continue
			fi
			if [ "$f" = "$ROOT/configs/debug" ]; then
				warn "$CONFIG: $line not available, continuing without it"
			else
				echo "error: $CONFIG: $line (from configs/$(basename "$f")) did not apply" >&2
				missing=1
			fi
		done < <(grep -E '^CONFIG_[A-Z0-9_]+=' "$f")
	done
	((missing == 0)) || die "fix the fragments in configs/ (see $OUT/.config for what Kconfig chose)"
	echo "$cfgstamp" >"$OUT/.harness-config"
fi

if [ -n "${CONFIG_ONLY:-}" ]; then
	run_step "kernel: make prepare" "$OUT/prepare.log" kmake "$OUT" prepare ||
		die "make prepare failed: see $OUT/prepare.log"
	echo "kernel: configured and prepared (no build)"
	exit 0
fi
log=$OUT/build.log
start=$SECONDS
if ! run_step -p kbuild_progress "kernel: building $CONFIG (W=1)" "$log" \
	kmake "$OUT" W=1 "$(basename "$IMAGE")" modules; then
	grep -E 'error:|Error [0-9]' "$log" | head -20 >&2 || true
	die "kernel build failed for $CONFIG: see $log"
fi
rm -rf "$OUT/mod-root"
kmake "$OUT" INSTALL_MOD_PATH="$OUT/mod-root" INSTALL_MOD_STRIP=1 modules_install >>"$log" 2>&1 ||
	die "modules_install failed for $CONFIG: see $log"
"$ROOT/scripts/warnings.py" update "$OUT/warnings.json" "$log" "$KSRC" >"$OUT/new-warnings"
nwarn=$("$ROOT/scripts/warnings.py" list "$OUT/warnings.json" | wc -l)
echo "kernel: built in $((SECONDS - start))s at $(cd "$KSRC" && git describe --always --tags); W=1: $nwarn warnings in the tree, $(wc -l <"$OUT/new-warnings") new in this build"
echo "$cfgstamp $srcstamp" >"$OUT/.harness-built"
