/*
 * Microsoft Azure Network Adapter (MANA) emulation: fault injection
 *
 * The faults the fault-* properties arm (mana.c): an HWC request that
 * fails or is never answered, RX completions that report too long a
 * frame, and HWC responses and TX doorbells held back.  The HWC, RX and
 * doorbell paths ask here whether a fault applies.
 *
 * Copyright (c) 2025 The MANA emulation authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "mana_int.h"
#include "trace.h"

/*
 * Is the HWC request @code faulted?  Then *@drop says whether it gets no
 * response at all, else *@status is what it answers.  The fault wears
 * off after fault-hwc-count requests (0: not until it is cleared).
 */
bool mana_fault_hwc(ManaCore *c, uint32_t code, bool *drop, uint32_t *status)
{
    ManaFaults *f = &c->faults;

    if (!f->hwc_code || f->hwc_code != code) {
        return false;
    }
    *drop = f->hwc_drop;
    *status = f->hwc_status;
    if (f->hwc_count == 1) {
        f->hwc_code = 0;
    } else if (f->hwc_count > 1) {
        f->hwc_count--;
    }
    trace_mana_fault_hwc(code, *drop, *status);
    return true;
}

/*
 * The length the CQE of an RX frame of @len bytes in a buffer of @cap
 * bytes on RQ @rq reports: one more than the buffer for the next
 * fault-rx-len-excess frames (only the real bytes are written).
 */
uint32_t mana_fault_rx_len(ManaCore *c, uint32_t rq, uint32_t len,
                           uint64_t cap)
{
    if (!c->faults.rx_len_excess) {
        return len;
    }
    c->faults.rx_len_excess--;
    len = MIN(cap + 1, 0xffff);
    trace_mana_fault_rx_len(rq, len);
    return len;
}

/* How long HWC responses and TX doorbells are held back, in ns (0: not). */
int64_t mana_fault_delay_ns(ManaCore *c)
{
    return (int64_t)MIN(c->faults.delay_ms, MANA_MAX_DELAY_MS) * SCALE_MS;
}
