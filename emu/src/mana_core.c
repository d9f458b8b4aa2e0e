/*
 * Microsoft Azure Network Adapter (MANA) emulation: device core
 *
 * The device side of the GDMA protocol as the Linux mana driver uses it,
 * one file per concern:
 *   mana_hwc.c    the shared memory channel (SMC), the hardware channel
 *                 (HWC) and its messages
 *   mana_queue.c  DMA regions, event/completion/work queues in guest
 *                 memory, doorbells
 *   mana_tx.c     TX: checksum offload, TSO, VLAN insertion, the
 *                 bandwidth clamp
 *   mana_rx.c     RX: filters, Toeplitz RSS, the RX generator
 *   mana_fault.c  fault injection
 * This file holds what they share -- the re-entrancy guard, DMA, frame
 * parsing and checksums -- and the core's entry points: BAR0, the
 * statistics read-out and the life cycle.
 *
 * Copyright (c) 2025 The MANA emulation authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/bswap.h"
#include "qemu/main-loop.h"
#include "qemu/host-utils.h"
#include "net/checksum.h"
#include "net_rx_pkt.h"
#include "hw/pci/pci_device.h"
#include "mana_int.h"
#include "trace.h"

/* ------------------------------------------------------------------ */
/* Re-entrancy guard and arithmetic                                    */

/*
 * Every piece of device work runs with the device's re-entrancy guard
 * engaged: MMIO handlers and the net receive path get it from QEMU, the
 * RX generator bottom half is created guarded, and the timers take it
 * here.  With the guard engaged the memory core refuses any access to
 * this device's own MMIO regions, so a DMA aimed at BAR0 or the MSI-X
 * BAR fails (and does nothing) instead of running a doorbell or an SMC
 * command in the middle of the work that issued the DMA.
 */
bool mana_guard_enter(ManaCore *c)
{
    MemReentrancyGuard *g = &DEVICE(c->owner)->mem_reentrancy_guard;

    if (g->engaged_in_io) {
        return false;
    }
    g->engaged_in_io = true;
    return true;
}

void mana_guard_exit(ManaCore *c)
{
    DEVICE(c->owner)->mem_reentrancy_guard.engaged_in_io = false;
}

/* a * b / d in 128-bit precision, saturated; d == 0 gives UINT64_MAX. */
uint64_t mana_muldiv(uint64_t a, uint64_t b, uint64_t d)
{
    uint64_t lo, hi;

    if (d == 0) {
        return UINT64_MAX;
    }
    mulu64(&lo, &hi, a, b);
    if (hi >= d) {
        return UINT64_MAX;
    }
    divu128(&lo, &hi, d);
    return lo;
}

/* ------------------------------------------------------------------ */
/* Guest memory                                                        */

/* Every DMA goes through here: a failed transfer is logged and counted. */
bool mana_dma(ManaCore *c, dma_addr_t a, void *buf, dma_addr_t len,
              bool write)
{
    MemTxResult r;

    if (!len) {
        return true;
    }
    r = write ? pci_dma_write(c->owner, a, buf, len)
              : pci_dma_read(c->owner, a, buf, len);
    if (r != MEMTX_OK) {
        c->gf.dma_errors++;
        qemu_log_mask(LOG_GUEST_ERROR, "mana: DMA %s of %" PRIu64 " bytes at "
                      "0x%" PRIx64 " failed\n", write ? "write" : "read",
                      (uint64_t)len, (uint64_t)a);
        if (!write) {
            memset(buf, 0, len);
        }
        return false;
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* State teardown                                                      */

void mana_clear_objects(ManaCore *c)
{
    int i;

    for (i = 0; i < MANA_MAX_EQS; i++) {
        mana_queue_free(&c->eqs[i]);
    }
    for (i = 0; i < MANA_MAX_CQS; i++) {
        mana_queue_free(&c->cqs[i]);
    }
    for (i = 0; i < MANA_MAX_WQS; i++) {
        mana_queue_free(&c->wqs[i]);
    }
    for (i = 0; i < MANA_MAX_REGIONS; i++) {
        mana_region_free(&c->regions[i]);
    }
    memset(&c->vport, 0, sizeof(c->vport));
    c->vport.default_wq = -1;
    c->registered = false;
    c->hwc_active = false;
    c->hwc_resp_pending = false;
    c->hwc_resp_hold = false;
    c->hwc_fence_wq = -1;
    /*
     * The clamp is the vPort's, kept by the host when the driver goes
     * away; a host that resets the VF across a suspend forgets it.
     */
    if (c->clamp_lost_on_teardown) {
        c->clamp_enabled = false;
        c->clamp_mbps = 0;
    }
    c->tx_backpressure = false;
    timer_del(c->hwc_timer);
    timer_del(c->tx_timer);
    mana_rx_unblock(c);
}

/* ------------------------------------------------------------------ */
/* Frame parsing and checksums                                         */

void mana_parse(const uint8_t *f, size_t len, ManaPktInfo *pi)
{
    uint16_t type;
    size_t l3 = ETH_HLEN;

    pi->l3 = -1;
    pi->l4 = -1;
    pi->v6 = false;
    pi->proto = 0;
    pi->frag = false;
    if (len < ETH_HLEN) {
        return;
    }
    type = lduw_be_p(f + 12);
    if (type == 0x8100 && len >= 18) {
        type = lduw_be_p(f + 16);
        l3 = 18;
    }
    if (type == 0x0800) {
        size_t ihl;

        if (len < l3 + 20 || (f[l3] >> 4) != 4) {
            return;
        }
        ihl = (f[l3] & 0xf) * 4;
        if (ihl < 20 || len < l3 + ihl) {
            return;
        }
        pi->l3 = l3;
        pi->proto = f[l3 + 9];
        pi->frag = (lduw_be_p(f + l3 + 6) & 0x3fff) != 0;
        pi->l4 = l3 + ihl;
    } else if (type == 0x86dd) {
        size_t off = l3 + 40;
        uint8_t nh;
        int n;

        if (len < off || (f[l3] >> 4) != 6) {
            return;
        }
        pi->l3 = l3;
        pi->v6 = true;
        nh = f[l3 + 6];
        for (n = 0; n < 8; n++) {
            if (nh == 0 || nh == 43 || nh == 60) {
                if (len < off + 8) {
                    return;
                }
                nh = f[off];
                off += (f[off + 1] + 1) * 8;
            } else if (nh == 44) {
                pi->frag = true;
                break;
            } else {
                break;
            }
        }
        if (off > len) {
            return;
        }
        pi->proto = nh;
        pi->l4 = off;
    }
}

/* Sum of the pseudo header for an L4 segment of @l4len bytes. */
uint32_t mana_pseudo_sum(const uint8_t *f, const ManaPktInfo *pi,
                         uint32_t l4len)
{
    uint8_t ph[40];

    if (pi->v6) {
        memcpy(ph, f + pi->l3 + 8, 32);
        stl_be_p(ph + 32, l4len);
        stl_be_p(ph + 36, pi->proto);
        return net_checksum_add(40, ph);
    }
    memcpy(ph, f + pi->l3 + 12, 8);
    ph[8] = 0;
    ph[9] = pi->proto;
    stw_be_p(ph + 10, l4len);
    return net_checksum_add(12, ph);
}

void mana_set_l4_csum(uint8_t *f, size_t len, const ManaPktInfo *pi)
{
    uint32_t l4len = len - pi->l4;
    int coff = pi->proto == IP_PROTO_TCP ? 16 : 6;
    uint32_t sum;
    uint16_t cs;

    if (len < pi->l4 + coff + 2) {
        return;
    }
    stw_be_p(f + pi->l4 + coff, 0);
    sum = mana_pseudo_sum(f, pi, l4len) + net_checksum_add(l4len, f + pi->l4);
    cs = net_checksum_finish(sum);
    if (pi->proto == IP_PROTO_UDP && cs == 0) {
        cs = 0xffff;
    }
    stw_be_p(f + pi->l4 + coff, cs);
}

void mana_set_ip_csum(uint8_t *f, const ManaPktInfo *pi)
{
    uint32_t ihl = (f[pi->l3] & 0xf) * 4;

    stw_be_p(f + pi->l3 + 10, 0);
    stw_be_p(f + pi->l3 + 10, net_raw_checksum(f + pi->l3, ihl));
}

void mana_count_frame(const uint8_t *f, size_t len, uint64_t *uc,
                      uint64_t *ucb, uint64_t *bc, uint64_t *bcb,
                      uint64_t *mc, uint64_t *mcb)
{
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

    if (!memcmp(f, bcast, 6)) {
        (*bc)++;
        *bcb += len;
    } else if (f[0] & 1) {
        (*mc)++;
        *mcb += len;
    } else {
        (*uc)++;
        *ucb += len;
    }
}

/* ------------------------------------------------------------------ */
/* BAR0                                                                */

uint64_t mana_core_bar0_read(ManaCore *c, hwaddr addr, unsigned size)
{
    uint64_t val = 0;

    if (addr >= MANA_SMC_OFFSET && addr < MANA_SMC_OFFSET + MANA_SMC_SIZE) {
        uint32_t i = (addr - MANA_SMC_OFFSET) / 4;

        val = c->smc[i];
        if (size == 8 && i + 1 < MANA_SMC_SIZE / 4) {
            val |= (uint64_t)c->smc[i + 1] << 32;
        }
    } else {
        switch (addr) {
        case 0x00:
            val = 1 | (0 << 16) | (1u << 24);
            break;
        case MANA_REG_DB_ZONE:
            val = MANA_DB_ZONE_OFFSET;
            break;
        case MANA_REG_DB_PAGE_SIZE:
            val = MANA_DB_PAGE_SIZE;
            break;
        case MANA_REG_SMC_OFFSET:
            val = MANA_SMC_OFFSET;
            break;
        case MANA_REG_SMC_SIZE:
            val = MANA_SMC_SIZE;
            break;
        default:
            break;
        }
    }
    trace_mana_bar0_read(addr, size, val);
    return val;
}

void mana_core_bar0_write(ManaCore *c, hwaddr addr, uint64_t val,
                          unsigned size)
{
    trace_mana_bar0_write(addr, size, val);
    if (addr >= MANA_SMC_OFFSET && addr < MANA_SMC_OFFSET + MANA_SMC_SIZE) {
        uint32_t i = (addr - MANA_SMC_OFFSET) / 4;

        c->smc[i] = val;
        if (size == 8 && i + 1 < MANA_SMC_SIZE / 4) {
            c->smc[++i] = val >> 32;
        }
        if (i == 7) {
            mana_smc_command(c, c->smc[7]);
        }
        return;
    }
    if (addr >= MANA_DB_ZONE_OFFSET &&
        addr < MANA_DB_ZONE_OFFSET + MANA_DB_PAGES * MANA_DB_PAGE_SIZE) {
        if (size != 8) {
            qemu_log_mask(LOG_GUEST_ERROR, "mana: %u-byte doorbell write\n",
                          size);
            return;
        }
        mana_doorbell(c, (addr - MANA_DB_ZONE_OFFSET) % MANA_DB_PAGE_SIZE,
                      val);
        return;
    }
    qemu_log_mask(LOG_GUEST_ERROR, "mana: write to BAR0 0x%" HWADDR_PRIx "\n",
                  addr);
}

/* ------------------------------------------------------------------ */
/* Statistics                                                          */

/* The CQs the guest created (the HWC's is not one of them) */
static int mana_count_cqs(ManaCore *c)
{
    int i, n = 0;

    for (i = 0; i < MANA_MAX_CQS; i++) {
        n += c->cqs[i].valid && !(c->hwc_active && i == c->hwc_cq);
    }
    return n;
}

/* The DMA regions the guest created, the HWC's included */
static int mana_count_regions(ManaCore *c)
{
    int i, n = 0;

    for (i = 0; i < MANA_MAX_REGIONS; i++) {
        n += c->regions[i].valid;
    }
    return n;
}

char *mana_core_stats(ManaCore *c)
{
    GString *s = g_string_new(NULL);
    ManaGfStats *g = &c->gf;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    uint64_t rate = c->tx_rate_bps;
    int i;

    if (now - c->tx_rate_ns > 2 * NANOSECONDS_PER_SECOND) {
        rate = mana_muldiv(c->tx_rate_bytes * 8, NANOSECONDS_PER_SECOND,
                           now - c->tx_rate_ns);
    }
    g_string_append_printf(s, "hwc: %s requests %" PRIu64 " unsupported %"
                           PRIu64 "\n", c->hwc_active ? "up" : "down",
                           g->hwc_requests, g->hwc_unsupported);
    g_string_append_printf(s, "vport: rx %s rss %s indir %u default-rq %d\n",
                           c->vport.rx_enable ? "on" : "off",
                           c->vport.rss_enable ? "on" : "off",
                           c->vport.num_indir, c->vport.default_wq);
    g_string_append_printf(s, "link: max %u Mbps clamp %s %u Mbps "
                           "speed %u Mbps tx-rate %" PRIu64 " bps paced %"
                           PRIu64 "\n", c->max_speed_mbps,
                           c->clamp_enabled ? "on" : "off", c->clamp_mbps,
                           mana_core_current_speed(c), rate, g->tx_paced);
    g_string_append_printf(s, "rx: bytes %" PRIu64 " ucast %" PRIu64
                           " bcast %" PRIu64 " mcast %" PRIu64
                           " nowqe %" PRIu64 " vport-off %" PRIu64
                           " truncated %" PRIu64 " queued %" PRIu64
                           " mtu-drops %" PRIu64 " waiting-rq %d\n",
                           g->rx_bytes, g->rx_ucast_pkts, g->rx_bcast_pkts,
                           g->rx_mcast_pkts, g->rx_discards_nowqe,
                           g->rx_err_vport_disabled, g->rx_truncated,
                           g->rx_queued, g->rx_err_mtu, c->rx_wait_wq);
    g_string_append_printf(s, "tx: bytes %" PRIu64 " ucast %" PRIu64
                           " bcast %" PRIu64 " mcast %" PRIu64
                           " errors %" PRIu64 " mtu-drops %" PRIu64
                           " vport-off %" PRIu64 " vport-offset %" PRIu64
                           " hdr-errors %" PRIu64 " gdma-errors %" PRIu64 "\n",
                           g->tx_bytes, g->tx_ucast_pkts, g->tx_bcast_pkts,
                           g->tx_mcast_pkts, g->tx_err_inval_oob,
                           g->tx_err_mtu, g->tx_err_vport_disabled,
                           g->tx_err_inval_vport_offset, g->tx_err_hdr,
                           g->tx_err_gdma);
    g_string_append_printf(s, "dma: errors %" PRIu64 "\n", g->dma_errors);
    g_string_append_printf(s, "objects: cq %d regions %d\n",
                           mana_count_cqs(c), mana_count_regions(c));
    g_string_append_printf(s, "rxgen: %s size %u flows %u frames %" PRIu64
                           " bytes %" PRIu64 "\n",
                           c->gen.running ? "on" : "off", c->gen.size,
                           c->gen.flows, c->gen.frames, c->gen.bytes);
    for (i = 0; i < MANA_MAX_EQS; i++) {
        ManaQueue *q = &c->eqs[i];

        if (q->valid) {
            g_string_append_printf(s, "eq %d: entries %u msix %u prod %u "
                                   "armed %d\n", i, q->entries, q->msix,
                                   q->prod, q->armed);
        }
    }
    for (i = 0; i < MANA_MAX_WQS; i++) {
        ManaQueue *q = &c->wqs[i];

        if (!q->valid) {
            continue;
        }
        g_string_append_printf(s, "%s %d%s: size %u cq %u posted %u "
                               "total-posted %" PRIu64 " frames %" PRIu64
                               " bytes %" PRIu64 " drops %" PRIu64
                               " errors %" PRIu64 " full %s waits %" PRIu64
                               "\n",
                               q->is_sq ? "sq" : "rq", i,
                               q->is_hwc ? " (hwc)" : "", q->size, q->cq,
                               (uint32_t)(q->tail - q->cons) / 32,
                               q->stats.posted, q->stats.frames,
                               q->stats.bytes, q->stats.drops,
                               q->stats.errors,
                               c->rx_wait_wq == i ? "on" : "off",
                               q->stats.full);
    }
    return g_string_free(s, false);
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */

void mana_core_realize(ManaCore *c)
{
    c->txbuf = g_malloc0(MANA_TX_MAX_FRAME + 64);
    c->segbuf = g_malloc0(MANA_TX_MAX_FRAME + 64);
    c->genbuf = g_malloc0(MANA_GEN_MAX_FRAME + 64);
    c->hwc_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, mana_hwc_timer_cb, c);
    c->tx_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, mana_tx_timer_cb, c);
    mana_rxgen_start(c);
    net_rx_pkt_init(&c->rx_pkt);
    c->vport.default_wq = -1;
    c->hwc_fence_wq = -1;
    c->rx_wait_wq = -1;
}

void mana_core_unrealize(ManaCore *c)
{
    mana_clear_objects(c);
    timer_free(c->hwc_timer);
    timer_free(c->tx_timer);
    mana_rxgen_stop(c);
    net_rx_pkt_uninit(c->rx_pkt);
    c->rx_pkt = NULL;
    c->hwc_timer = NULL;
    c->tx_timer = NULL;
    g_free(c->txbuf);
    g_free(c->segbuf);
    g_free(c->genbuf);
    c->txbuf = c->segbuf = c->genbuf = NULL;
}

/*
 * The reset's enter phase: back to the power-on state without side
 * effects outside the device (no DMA, interrupt or net backend call).
 * A frame QEMU holds for a full RQ is offered again at the exit phase.
 */
void mana_core_reset_enter(ManaCore *c)
{
    trace_mana_reset();
    c->rx_flush_on_exit |= c->rx_wait_wq >= 0;
    c->rx_wait_wq = -1;     /* so that mana_clear_objects() flushes nothing */
    mana_clear_objects(c);
    c->clamp_enabled = false;
    c->clamp_mbps = 0;
    memset(c->smc, 0, sizeof(c->smc));
    memset(&c->gf, 0, sizeof(c->gf));
    c->next_obj = 0;
    c->next_region = 0;
    c->tokens = 0;
    c->tx_rate_bytes = 0;
    c->tx_rate_bps = 0;
    c->tx_rate_ns = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
}

void mana_core_reset_exit(ManaCore *c)
{
    if (c->rx_flush_on_exit) {
        c->rx_flush_on_exit = false;
        qemu_flush_queued_packets(qemu_get_queue(c->nic));
    }
}
