# Entry points only: each target runs one script in scripts/.
# Variables are passed through the environment (CONFIG, SERIES, DEBUG, ARCH, ...).
export BASE CONFIG SERIES DEBUG ARCH NIC TIMEOUT APPEND QEMU_EXTRA FORCE LINUX_TREE
export MANA_FUZZ_SECONDS MANA_FUZZ_SEED QTEST_ARCHES QTEST_ONLY
export SEED MINUTES SOAK_SETTLE SOAK_MARGIN SOAK_STEPS
export BENCH_BASES BENCH_CONFIGS BENCH_SECONDS BENCH_ROUNDS BENCH_SIZES BENCH_MTUS BENCH_RINGS BENCH_CYCLES BENCH_TIMEOUT

.PHONY: help deps tree export emu-export kernel qemu qtest rootfs iproute2 vm lint kunit system check demo bench soak
help:
	@echo "make demo                 build what is missing, boot the guests, show what the series does"
	@echo "make check                lint + qtest + kunit + system tests; ends with 'N passed, N failed'"
	@echo "BASE=6.12|7.3             the kernel base of tree/export/kernel/vm/lint/kunit/system/check (6.12: series/, 7.3: net-next/)"
	@echo "make tree                 build/linux = Debian linux-source-6.12 (tag base) + series/ (BASE=7.3: build/linux-7.3 + net-next/)"
	@echo "make export               build/linux base..HEAD -> series/"
	@echo "make kernel CONFIG=<name> [DEBUG=1] [SERIES=0]   configs: x86_64 arm64-4k arm64-16k arm64-64k"
	@echo "make emu-export           emu/patches/ regenerated with git format-patch, signed with your git identity"
	@echo "make qemu                 QEMU 10.2 (x86_64 + aarch64) with the MANA model from emu/"
	@echo "make qtest                the MANA model's qtest (x86_64 + aarch64); MANA_FUZZ_SECONDS=N for the randomized case"
	@echo "make rootfs ARCH=x86_64|arm64"
	@echo "make iproute2 [ARCH=x86_64|arm64]   Debian iproute2 + iproute2/patches: the netshaper command for the guests"
	@echo "make vm CONFIG=<name> [SERIES=0] [DEBUG=1] [RUN='<cmd>']"
	@echo "make lint                 per-patch NIPA-style checks"
	@echo "make kunit                the series' KUnit suites in the x86_64 and arm64-64k guests"
	@echo "make system               the kselftests in the x86_64 and arm64-64k guests"
	@echo "make bench [BENCH_CONFIGS='arm64-64k x86_64'] [BENCH_BASES=6.12]   RX memory, packets/s, CPU: 6.12 base/series, 7.3 mainline/net-next (build/bench/)"
	@echo "make soak [CONFIG=<name>] [SEED=n] [MINUTES=m]   seeded fault + reconfiguration campaign on the debug kernel"

deps:   ; @scripts/deps.sh
tree:   ; @scripts/tree.sh
export: ; @scripts/export.sh
emu-export: ; @scripts/emu-export.sh
kernel: ; @scripts/kernel.sh
qemu:   ; @scripts/qemu.sh
qtest:  ; @scripts/qtest.sh
rootfs: ; @scripts/rootfs.sh
iproute2: ; @scripts/iproute2.sh
# RUN is passed unexpanded, so '$$NETIF' in it reaches the guest's shell.
vm:     ; @RUN='$(subst ','\'',$(value RUN))' scripts/vm.sh
lint:   ; @scripts/lint.sh
kunit:  ; @scripts/kunit.sh
system: ; @scripts/system.sh
check:  ; @scripts/check.sh
demo:   ; @scripts/demo.sh
bench:  ; @scripts/bench.sh
soak:   ; @scripts/soak.sh
