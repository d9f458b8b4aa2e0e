/*
 * Microsoft Azure Network Adapter (MANA) emulation: queues
 *
 * DMA regions, the GDMA queues in guest memory (EQ, CQ, SQ, RQ), how
 * entries are posted to them and work queue elements read from them,
 * and the doorbells that move them.
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
#include "hw/pci/msix.h"
#include "mana_int.h"
#include "trace.h"

/* ------------------------------------------------------------------ */
/* Rings and DMA regions                                               */

static bool mana_ring_access(ManaCore *c, ManaQueue *q, uint32_t off,
                             void *buf, uint32_t len, bool write)
{
    uint8_t *p = buf;
    bool ok = true;

    if (!q->valid || !q->pages || q->size < MANA_PAGE_SIZE ||
        len > q->size) {
        return false;
    }
    off &= q->size - 1;
    while (len) {
        uint32_t po = off & (MANA_PAGE_SIZE - 1);
        uint32_t n = MIN(len, MANA_PAGE_SIZE - po);
        dma_addr_t a;

        if (!q->valid || !q->pages) {
            return false;       /* freed by what the last DMA did */
        }
        n = MIN(n, q->size - off);
        a = q->pages[off / MANA_PAGE_SIZE] + po;
        ok &= mana_dma(c, a, p, n, write);
        p += n;
        len -= n;
        off = (off + n) & (q->size - 1);
    }
    return ok;
}

void mana_queue_free(ManaQueue *q)
{
    g_free(q->pages);
    g_free(q->tso_buf);
    memset(q, 0, sizeof(*q));
}

void mana_region_free(ManaRegion *r)
{
    g_free(r->pages);
    memset(r, 0, sizeof(*r));
}

ManaQueue *mana_alloc(ManaQueue *tab, int n, int first)
{
    int i;

    for (i = first; i < n; i++) {
        if (!tab[i].valid) {
            memset(&tab[i], 0, sizeof(tab[i]));
            tab[i].id = i;
            return &tab[i];
        }
    }
    return NULL;
}

void mana_queue_set_contig(ManaQueue *q, uint64_t base, uint32_t size)
{
    q->size = size;
    q->npages = 1;
    q->pages = g_new(uint64_t, 1);
    q->pages[0] = base;
    q->valid = true;
}

ManaRegion *mana_region_lookup(ManaCore *c, uint64_t handle)
{
    if (handle == 0 || handle > MANA_MAX_REGIONS) {
        return NULL;
    }
    if (!c->regions[handle - 1].valid) {
        return NULL;
    }
    return &c->regions[handle - 1];
}

/*
 * Check that a region can back a ring of @size bytes: at least 4 KiB as
 * the hardware requires, a power of two, and within the region.
 */
bool mana_region_fits(ManaRegion *r, uint32_t size)
{
    return size >= MANA_MIN_QUEUE_SIZE && is_power_of_2(size) &&
           size <= r->length;
}

/* Move the pages of a region into a queue; the region is consumed. */
void mana_queue_take_region(ManaQueue *q, ManaRegion *r, uint32_t size)
{
    q->size = size;
    q->npages = r->npages;
    q->pages = r->pages;
    r->pages = NULL;
    mana_region_free(r);
    q->valid = true;
}

/* ------------------------------------------------------------------ */
/* Event and completion queues                                         */

static void mana_eq_notify(ManaCore *c, ManaQueue *eq)
{
    trace_mana_eq_irq(eq->id, eq->msix);
    if (eq->msix < c->vectors) {
        msix_notify(c->owner, eq->msix);
    }
}

/*
 * Queues are passed around as pointers into the tables, which never move;
 * after every DMA the queue is checked again (->valid) before its state is
 * used, so that nothing relies on a DMA having left the device alone.
 */
void mana_eq_post(ManaCore *c, ManaQueue *eq, uint8_t type,
                  uint32_t d0, uint32_t d1, uint32_t d2)
{
    uint32_t slot, owner;
    uint8_t e[12];
    uint32_t info;

    if (!eq || !eq->valid || !eq->entries) {
        return;
    }
    slot = eq->prod % eq->entries;
    owner = (eq->prod / eq->entries) & 7;
    stl_le_p(e, d0);
    stl_le_p(e + 4, d1);
    stl_le_p(e + 8, d2);
    mana_ring_access(c, eq, slot * 16, e, 12, true);
    if (!eq->valid) {
        return;
    }
    info = cpu_to_le32(type | (owner << 29));
    mana_ring_access(c, eq, slot * 16 + 12, &info, 4, true);
    if (!eq->valid) {
        return;
    }
    eq->prod++;
    trace_mana_eqe(eq->id, type, d0, eq->armed);
    if (eq->armed) {
        eq->armed = false;
        mana_eq_notify(c, eq);
    }
}

static void mana_cq_notify(ManaCore *c, ManaQueue *cq)
{
    if (cq->valid && cq->parent < MANA_MAX_EQS) {
        mana_eq_post(c, &c->eqs[cq->parent], EQE_COMPLETION, cq->id, 0, 0);
    }
}

void mana_cq_post(ManaCore *c, ManaQueue *cq, uint32_t wq_num,
                  bool is_sq, const uint8_t *data)
{
    uint32_t slot, owner, info;

    if (!cq || !cq->valid || !cq->entries) {
        return;
    }
    slot = cq->prod % cq->entries;
    owner = (cq->prod / cq->entries) & 7;
    mana_ring_access(c, cq, slot * 64, (void *)data, 60, true);
    if (!cq->valid) {
        return;
    }
    info = cpu_to_le32((wq_num & 0xffffff) | (is_sq ? 1u << 24 : 0) |
                       (owner << 29));
    mana_ring_access(c, cq, slot * 64 + 60, &info, 4, true);
    if (!cq->valid) {
        return;
    }
    cq->prod++;
    trace_mana_cqe(cq->id, wq_num, is_sq, data[0] & 0x3f, cq->armed);
    if (cq->armed) {
        cq->armed = false;
        mana_cq_notify(c, cq);
    }
}

/* ------------------------------------------------------------------ */
/* Work queue elements                                                 */

bool mana_wqe_read(ManaCore *c, ManaQueue *wq, ManaWqe *w,
                   ManaSge *sge, uint32_t max_sge)
{
    uint32_t avail = wq->tail - wq->cons;
    uint8_t h[8], sgl[16];
    uint32_t i;

    w->offset = wq->cons & (wq->size - 1);
    w->num_sge = 0;
    if (!mana_ring_access(c, wq, w->offset, h, 8, false)) {
        w->size = MIN(32, avail);
        return false;
    }
    w->hdr0 = ldl_le_p(h);
    w->hdr1 = ldl_le_p(h + 4);
    w->num_sge = w->hdr1 & 0xff;
    w->oob_size = ((w->hdr1 >> 8) & 7) * 4;
    w->size = ROUND_UP(8 + w->oob_size + 16 * w->num_sge, 32);
    if (w->oob_size > 24 || w->num_sge == 0 || w->num_sge > max_sge ||
        w->size > avail) {
        w->size = MIN(MAX(w->size, 32), avail);
        return false;
    }
    if (w->oob_size &&
        !mana_ring_access(c, wq, w->offset + 8, w->oob, w->oob_size, false)) {
        return false;
    }
    for (i = 0; i < w->num_sge; i++) {
        if (!mana_ring_access(c, wq, w->offset + 8 + w->oob_size + 16 * i,
                              sgl, 16, false)) {
            return false;
        }
        sge[i].addr = ldq_le_p(sgl);
        sge[i].mkey = ldl_le_p(sgl + 8);
        sge[i].size = ldl_le_p(sgl + 12);
    }
    return true;
}

ManaQueue *mana_wq_by_obj(ManaCore *c, uint64_t obj)
{
    int i;

    if (!obj) {
        return NULL;
    }
    for (i = 0; i < MANA_MAX_WQS; i++) {
        if (c->wqs[i].valid && !c->wqs[i].is_hwc && c->wqs[i].obj == obj) {
            return &c->wqs[i];
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Doorbells                                                           */

static ManaQueue *mana_wq_by_id(ManaCore *c, uint32_t id, bool is_sq)
{
    if (id >= MANA_MAX_WQS || !c->wqs[id].valid ||
        c->wqs[id].is_sq != is_sq) {
        return NULL;
    }
    return &c->wqs[id];
}

static void mana_arm(ManaCore *c, ManaQueue *q, bool is_eq, uint32_t tail,
                     bool arm)
{
    uint32_t mod = q->entries * 8;

    if (!arm) {
        q->armed = false;
        return;
    }
    if (q->prod % mod == tail % mod) {
        q->armed = true;
        return;
    }
    /* The driver missed entries: notify now and stay disarmed. */
    q->armed = false;
    if (is_eq) {
        mana_eq_notify(c, q);
    } else {
        mana_cq_notify(c, q);
    }
}

void mana_doorbell(ManaCore *c, uint32_t off, uint64_t val)
{
    uint32_t id = val & 0xffffff;
    uint32_t tail = val >> 32;
    ManaQueue *q;

    trace_mana_doorbell(off, val);
    switch (off) {
    case MANA_DB_SQ:
    case MANA_DB_RQ:
        q = mana_wq_by_id(c, id, off == MANA_DB_SQ);
        if (!q) {
            qemu_log_mask(LOG_GUEST_ERROR, "mana: doorbell 0x%x for bad "
                          "WQ %u\n", off, id);
            return;
        }
        if (tail - q->cons > q->size) {
            qemu_log_mask(LOG_GUEST_ERROR, "mana: WQ %u tail 0x%x beyond "
                          "ring (cons 0x%x)\n", id, tail, q->cons);
            return;
        }
        if (off == MANA_DB_RQ) {
            q->stats.posted += (uint32_t)(tail - q->tail) / 32;
        }
        q->tail = tail;
        if (q->is_hwc) {
            if (q->is_sq) {
                mana_hwc_sq_process(c, q);
            } else {
                mana_hwc_deliver(c);
            }
        } else if (q->is_sq) {
            int64_t delay = mana_fault_delay_ns(c);

            if (delay) {
                if (!timer_pending(c->tx_timer)) {
                    timer_mod(c->tx_timer,
                              qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + delay);
                }
            } else if (!timer_pending(c->tx_timer)) {
                mana_sq_process(c, q);
            }
        } else {
            if (c->rx_wait_wq == (int32_t)q->id && q->cons != q->tail) {
                mana_rx_unblock(c);
            }
            if (c->gen.running) {
                mana_rxgen_kick(c);
            }
        }
        break;
    case MANA_DB_CQ:
        if (id >= MANA_MAX_CQS || !c->cqs[id].valid) {
            qemu_log_mask(LOG_GUEST_ERROR, "mana: CQ doorbell for bad CQ %u\n",
                          id);
            return;
        }
        mana_arm(c, &c->cqs[id], false, tail & 0x7fffffff, val >> 63);
        break;
    case MANA_DB_EQ:
        id = val & 0xffff;
        if (id >= MANA_MAX_EQS || !c->eqs[id].valid) {
            qemu_log_mask(LOG_GUEST_ERROR, "mana: EQ doorbell for bad EQ %u\n",
                          id);
            return;
        }
        mana_arm(c, &c->eqs[id], true, tail & 0x7fffffff, val >> 63);
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "mana: write to doorbell offset 0x%x\n",
                      off);
        break;
    }
}
