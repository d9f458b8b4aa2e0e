/*
 * Microsoft Azure Network Adapter (MANA) emulation: device core
 *
 * The GDMA queues, the hardware channel (HWC), the MANA Ethernet
 * messages and the TX/RX data paths (mana_core.c and the mana_*.c files
 * it is split into; mana_int.h is what they share).  No QOM here:
 * mana.c owns the PCI function and hands the core its PCIDevice and NIC.
 *
 * Copyright (c) 2025 The MANA emulation authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_NET_MANA_CORE_H
#define HW_NET_MANA_CORE_H

#include "qemu/timer.h"
#include "qemu/thread.h"
#include "system/runstate.h"
#include "hw/pci/pci_device.h"
#include "net/net.h"
#include "mana_regs.h"

struct NetRxPkt;

/* Device limits */
#define MANA_MAX_QUEUES             64
#define MANA_MAX_EQS                (MANA_MAX_QUEUES + 2)
#define MANA_MAX_CQS                (2 * MANA_MAX_QUEUES + 8)
#define MANA_MAX_WQS                (2 * MANA_MAX_QUEUES + 8)
#define MANA_REPORTED_MAX_NUM_CQS   1024
#define MANA_MAX_REGIONS            1024
#define MANA_MAX_REGION_PAGES       512
#define MANA_MAX_INDIR              512
#define MANA_HASH_KEY_LEN           40
#define MANA_HWC_MSG_SIZE           4096
#define MANA_PAGE_SIZE              4096
#define MANA_MAX_VECTORS            65
#define MANA_TX_MAX_FRAME           (256 * 1024)
#define MANA_RX_MAX_SGE             16
#define MANA_MIN_QUEUE_SIZE         4096        /* as the hardware */
#define MANA_TSO_MIN_MSS            64
#define MANA_GEN_MAX_FRAME          9216
#define MANA_MAX_SPEED_MBPS         1000000     /* 1 Tbit/s */
#define MANA_MAX_DELAY_MS           120000      /* fault-delay-ms */

typedef struct ManaQueueStats {
    uint64_t posted;       /* RX: WQEs posted by the driver; TX: WQEs */
    uint64_t frames;
    uint64_t bytes;
    uint64_t drops;
    uint64_t errors;
    uint64_t full;          /* RX: times a frame waited for a buffer */
} ManaQueueStats;

/* One GDMA queue: EQ, CQ, SQ or RQ. */
typedef struct ManaQueue {
    bool valid;
    uint32_t id;
    uint32_t size;          /* ring size in bytes (power of 2) */
    uint32_t npages;
    uint64_t *pages;        /* 4 KiB page DMA addresses */

    /* EQ and CQ */
    uint32_t entries;
    uint32_t prod;          /* free running, starts at entries */
    bool armed;
    uint32_t msix;          /* EQ: MSI-X vector */
    uint32_t parent;        /* CQ: parent EQ id */

    /* SQ and RQ */
    bool is_sq;
    bool is_hwc;
    uint32_t cq;            /* id of the CQ this WQ completes to */
    uint32_t cons;          /* consumer byte offset, mod 2^32 */
    uint32_t tail;          /* producer byte offset from doorbell */
    uint64_t obj;           /* wq_obj handle */
    uint32_t tso_off;       /* SQ: payload sent of the TSO WQE at cons */
    uint32_t tso_seg;       /* SQ: segments sent of it */
    uint8_t *tso_buf;       /* SQ: its frame (MANA_TX_MAX_FRAME + 64) */
    uint32_t tso_len;
    ManaQueueStats stats;
} ManaQueue;

typedef struct ManaRegion {
    bool valid;
    uint64_t length;
    uint32_t npages;
    uint64_t *pages;
} ManaRegion;

typedef struct ManaVport {
    uint64_t handle;
    bool tx_configured;
    bool rx_enable;
    bool rss_enable;
    uint64_t default_rxobj;
    uint8_t hash_key[MANA_HASH_KEY_LEN];
    uint32_t num_indir;
    uint64_t indir[MANA_MAX_INDIR];
    int32_t indir_wq[MANA_MAX_INDIR];   /* resolved WQ index, -1 if none */
    int32_t default_wq;
} ManaVport;

typedef struct ManaGfStats {
    uint64_t rx_discards_nowqe;
    uint64_t rx_err_vport_disabled;
    uint64_t rx_bytes;
    uint64_t rx_ucast_pkts, rx_ucast_bytes;
    uint64_t rx_bcast_pkts, rx_bcast_bytes;
    uint64_t rx_mcast_pkts, rx_mcast_bytes;
    uint64_t tx_err_vport_disabled;
    uint64_t tx_err_inval_vport_offset;
    uint64_t tx_err_inval_oob;
    uint64_t tx_err_hdr;
    uint64_t tx_bytes;
    uint64_t tx_ucast_pkts, tx_ucast_bytes;
    uint64_t tx_bcast_pkts, tx_bcast_bytes;
    uint64_t tx_mcast_pkts, tx_mcast_bytes;
    uint64_t tx_err_gdma;
    uint64_t rx_truncated;
    uint64_t rx_queued;
    uint64_t hwc_requests;
    uint64_t hwc_unsupported;
    uint64_t tx_paced;
    uint64_t tx_err_mtu;
    uint64_t rx_err_mtu;
    uint64_t dma_errors;
} ManaGfStats;

typedef struct ManaFaults {
    uint32_t hwc_code;          /* 0: no HWC fault armed */
    uint32_t hwc_status;
    bool hwc_drop;
    uint32_t hwc_count;         /* 0: every matching request */
    uint32_t rx_len_excess;     /* number of RX CQEs to over-report */
    uint32_t delay_ms;          /* delay TX and HWC completions */
} ManaFaults;

/* What the RX generator's template frame is built from */
typedef struct ManaRxGenInputs {
    uint32_t size;
    uint32_t src_ip;
    uint32_t dst_ip;
    uint32_t dst_port;
    uint8_t hash_key[MANA_HASH_KEY_LEN];
} ManaRxGenInputs;

typedef struct ManaRxGen {
    bool running;
    uint32_t size;
    uint32_t flows;
    uint32_t rate;              /* frames/s, 0: as fast as the RQs take them */
    uint32_t duration_ms;       /* stop after this long, 0: when told */
    int64_t run_ns;             /* QEMU_CLOCK_REALTIME when the run began */
    int64_t pace_ns;            /* ... and when the pace was last set */
    uint64_t paced;             /* frames since pace_ns */
    uint32_t paced_rate;        /* the rate paced since pace_ns */
    uint32_t next_flow;
    uint32_t src_ip;
    uint32_t dst_ip;
    uint32_t dst_port;
    uint64_t frames;
    uint64_t bytes;

    /*
     * The frame of flow 0 in genbuf, built once for these inputs; a flow
     * differs only in its UDP source port, whose checksum and RSS hash
     * change are applied per frame.
     */
    bool tmpl_valid;
    ManaRxGenInputs tmpl_in;
    uint32_t tmpl_len;
    uint16_t tmpl_csum;         /* UDP checksum of flow 0 */
    uint32_t tmpl_hash;         /* Toeplitz hash with source port 0 */
    /* a source port's part of the hash, for its high and its low byte */
    uint32_t port_hash[2][256];
    uint32_t tmpl_htype;
    uint32_t tmpl_flags;
} ManaRxGen;

typedef struct ManaCore {
    PCIDevice *owner;
    NICState *nic;
    uint8_t mac[6];

    /* configuration (properties) */
    uint32_t queues;
    uint32_t vectors;
    uint32_t max_speed_mbps;
    uint32_t adapter_mtu;       /* max L2 frame, without FCS */
    uint32_t num_indir_ent;
    bool bw_clamp_supported;
    bool qos_unconfigured;
    bool clamp_lost_on_teardown;
    bool rx_queue_when_full;

    /* SMC */
    uint32_t smc[MANA_SMC_SIZE / 4];

    /* HWC */
    bool hwc_active;
    uint32_t hwc_eq, hwc_cq, hwc_rq, hwc_sq;
    bool hwc_resp_pending;
    bool hwc_resp_hold;         /* delayed by fault injection */
    int32_t hwc_fence_wq;       /* RQ owed a fence CQE, -1 if none */
    uint32_t hwc_resp_len;
    uint8_t hwc_resp[MANA_HWC_MSG_SIZE];
    uint8_t hwc_req[MANA_HWC_MSG_SIZE];

    /* per-instance frame buffers (heap, allocated at realize) */
    uint8_t *txbuf;             /* MANA_TX_MAX_FRAME + 64 */
    uint8_t *segbuf;            /* MANA_TX_MAX_FRAME + 64 */
    uint8_t *genbuf;            /* MANA_GEN_MAX_FRAME + 64 */
    QEMUTimer *hwc_timer;

    /* objects */
    ManaQueue eqs[MANA_MAX_EQS];
    ManaQueue cqs[MANA_MAX_CQS];
    ManaQueue wqs[MANA_MAX_WQS];
    ManaRegion regions[MANA_MAX_REGIONS];
    uint32_t next_region;
    uint64_t next_obj;
    bool registered;
    ManaVport vport;

    /* link config and bandwidth clamp */
    bool clamp_enabled;
    uint32_t clamp_mbps;
    int64_t tokens;             /* bytes */
    int64_t tokens_ns;          /* time of last refill */
    QEMUTimer *tx_timer;
    uint32_t tx_rr;
    uint64_t tx_rate_bytes;     /* bytes sent in the current window */
    int64_t tx_rate_ns;
    uint64_t tx_rate_bps;       /* last measured TX rate */

    /*
     * The RQ that was full when the frame at the head of QEMU's net queue
     * came for it (-1: none): only a buffer posted on that RQ, its
     * destruction or a new steering can let the frame in.
     */
    int32_t rx_wait_wq;
    bool rx_flush_on_exit;      /* a reset dropped rx_wait_wq: flush at exit */
    bool tx_backpressure;       /* the backend queued a frame */
    ManaGfStats gf;
    ManaFaults faults;
    ManaRxGen gen;
    /*
     * The generator's host thread: it runs a batch under the BQL when
     * kicked (by the rxgen property, a posted RQ buffer, the VM running
     * again) or when its pace says so, and sleeps on gen_cond otherwise.
     */
    QemuThread gen_thread;
    QemuMutex gen_lock;
    QemuCond gen_cond;
    bool gen_kicked;            /* under gen_lock */
    bool gen_exit;              /* under gen_lock */
    VMChangeStateEntry *gen_vmstate;
    struct NetRxPkt *rx_pkt;    /* parses received frames (mana_rx.c) */
} ManaCore;

void mana_core_realize(ManaCore *c);
void mana_core_unrealize(ManaCore *c);
void mana_core_reset_enter(ManaCore *c);
void mana_core_reset_exit(ManaCore *c);

uint64_t mana_core_bar0_read(ManaCore *c, hwaddr addr, unsigned size);
void mana_core_bar0_write(ManaCore *c, hwaddr addr, uint64_t val,
                          unsigned size);

bool mana_core_can_receive(ManaCore *c);
ssize_t mana_core_receive(ManaCore *c, const uint8_t *buf, size_t size);

void mana_core_rxgen_set(ManaCore *c, bool on);
void mana_rxgen_kick(ManaCore *c);
char *mana_core_stats(ManaCore *c);
uint32_t mana_core_current_speed(ManaCore *c);
void mana_core_set_clamp(ManaCore *c, uint32_t mbps);

#endif
