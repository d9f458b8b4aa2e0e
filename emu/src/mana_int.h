/*
 * Microsoft Azure Network Adapter (MANA) emulation: the core's own header
 *
 * What the files of the device core share and mana.c does not need:
 * the work queue element and frame layouts and the functions one part
 * of the core calls in another.  mana_core.h is the interface to mana.c.
 *
 * Copyright (c) 2025 The MANA emulation authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_NET_MANA_INT_H
#define HW_NET_MANA_INT_H

#include "net/eth.h"            /* ETH_HLEN, IP_PROTO_TCP, IP_PROTO_UDP */
#include "mana_core.h"

#define ETH_MIN_FRAME                   60

typedef struct ManaSge {
    uint64_t addr;
    uint32_t mkey;
    uint32_t size;
} ManaSge;

typedef struct ManaWqe {
    uint32_t hdr0;
    uint32_t hdr1;
    uint32_t oob_size;
    uint8_t oob[24];
    uint32_t num_sge;
    uint32_t size;          /* bytes, 32-aligned */
    uint32_t offset;        /* ring offset of the WQE */
} ManaWqe;

/* Parsed L3/L4 information of a frame */
typedef struct ManaPktInfo {
    int l3;                 /* offset of the IP header, -1 if none */
    int l4;                 /* offset of the L4 header, -1 if none */
    bool v6;
    uint8_t proto;
    bool frag;
} ManaPktInfo;

/* mana_core.c */
bool mana_guard_enter(ManaCore *c);
void mana_guard_exit(ManaCore *c);
uint64_t mana_muldiv(uint64_t a, uint64_t b, uint64_t d);
bool mana_dma(ManaCore *c, dma_addr_t a, void *buf, dma_addr_t len,
              bool write);
void mana_clear_objects(ManaCore *c);
void mana_parse(const uint8_t *f, size_t len, ManaPktInfo *pi);
uint32_t mana_pseudo_sum(const uint8_t *f, const ManaPktInfo *pi,
                         uint32_t l4len);
void mana_set_l4_csum(uint8_t *f, size_t len, const ManaPktInfo *pi);
void mana_set_ip_csum(uint8_t *f, const ManaPktInfo *pi);
void mana_count_frame(const uint8_t *f, size_t len, uint64_t *uc,
                      uint64_t *ucb, uint64_t *bc, uint64_t *bcb,
                      uint64_t *mc, uint64_t *mcb);

/* mana_queue.c: DMA regions, queues, doorbells */
ManaRegion *mana_region_lookup(ManaCore *c, uint64_t handle);
bool mana_region_fits(ManaRegion *r, uint32_t size);
void mana_region_free(ManaRegion *r);
ManaQueue *mana_alloc(ManaQueue *tab, int n, int first);
void mana_queue_set_contig(ManaQueue *q, uint64_t base, uint32_t size);
void mana_queue_take_region(ManaQueue *q, ManaRegion *r, uint32_t size);
void mana_queue_free(ManaQueue *q);
void mana_eq_post(ManaCore *c, ManaQueue *eq, uint8_t type,
                  uint32_t d0, uint32_t d1, uint32_t d2);
void mana_cq_post(ManaCore *c, ManaQueue *cq, uint32_t wq_num,
                  bool is_sq, const uint8_t *data);
bool mana_wqe_read(ManaCore *c, ManaQueue *wq, ManaWqe *w,
                   ManaSge *sge, uint32_t max_sge);
ManaQueue *mana_wq_by_obj(ManaCore *c, uint64_t obj);
void mana_doorbell(ManaCore *c, uint32_t off, uint64_t val);

/* mana_hwc.c: SMC, HWC and its messages */
void mana_smc_command(ManaCore *c, uint32_t val);
void mana_hwc_sq_process(ManaCore *c, ManaQueue *sq);
void mana_hwc_deliver(ManaCore *c);
void mana_hwc_timer_cb(void *opaque);

/* mana_tx.c: TX and the bandwidth clamp */
void mana_sq_process(ManaCore *c, ManaQueue *sq);
void mana_tx_timer_cb(void *opaque);

/* mana_rx.c: RX, RSS and the RX generator */
void mana_vport_resolve(ManaCore *c);
void mana_rx_unblock(ManaCore *c);
void mana_rxgen_start(ManaCore *c);
void mana_rxgen_stop(ManaCore *c);

/* mana_fault.c: fault injection */
bool mana_fault_hwc(ManaCore *c, uint32_t code, bool *drop, uint32_t *status);
uint32_t mana_fault_rx_len(ManaCore *c, uint32_t rq, uint32_t len,
                           uint64_t cap);
int64_t mana_fault_delay_ns(ManaCore *c);

#endif
