/*
 * Microsoft Azure Network Adapter (MANA) emulation: TX
 *
 * The send queues: each WQE's frame read from guest memory, checksums,
 * TSO and VLAN insertion done as the device would, the frame handed to
 * the network backend and a CQE posted; and the bandwidth clamp's token
 * bucket that paces it all.
 *
 * Copyright (c) 2025 The MANA emulation authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/bswap.h"
#include "mana_int.h"
#include "trace.h"

/* ------------------------------------------------------------------ */
/* Bandwidth clamp                                                     */

uint32_t mana_core_current_speed(ManaCore *c)
{
    return c->clamp_enabled ? c->clamp_mbps : c->max_speed_mbps;
}

void mana_core_set_clamp(ManaCore *c, uint32_t mbps)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    trace_mana_bw_clamp(mbps != 0, mbps);
    c->clamp_enabled = mbps != 0;
    c->clamp_mbps = mbps;
    c->tokens = 0;
    c->tokens_ns = now;
    /* Resume anything that was waiting for tokens or was paced. */
    if (c->tx_timer) {
        timer_mod(c->tx_timer, now);
    }
}

/* Token bucket: returns true when TX must wait (the timer is armed). */
static bool mana_tx_throttled(ManaCore *c)
{
    int64_t now, burst, wait;
    uint64_t rate;

    if (!c->clamp_enabled || !c->clamp_mbps) {
        return false;
    }
    /* 64-bit byte rate: 1..MANA_MAX_SPEED_MBPS Mbit/s, never zero. */
    rate = (uint64_t)MIN(c->clamp_mbps, MANA_MAX_SPEED_MBPS) * 125000;
    now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    burst = MAX(rate / 500, 65536 + 1514);  /* 2 ms, at least one TSO */
    if (now > c->tokens_ns) {
        uint64_t add = mana_muldiv(now - c->tokens_ns, rate,
                                   NANOSECONDS_PER_SECOND);

        c->tokens = add >= (uint64_t)(burst - MIN(c->tokens, 0)) ?
                    burst : c->tokens + (int64_t)add;
    }
    c->tokens_ns = now;
    if (c->tokens > burst) {
        c->tokens = burst;
    }
    if (c->tokens > 0) {
        return false;
    }
    wait = mana_muldiv(1 - c->tokens, NANOSECONDS_PER_SECOND, rate);
    if (!timer_pending(c->tx_timer)) {
        timer_mod(c->tx_timer, now + MAX(wait, 20 * SCALE_US));
    }
    c->gf.tx_paced++;
    return true;
}

/* ------------------------------------------------------------------ */
/* Send queues                                                         */

static void mana_tx_rate_account(ManaCore *c, size_t len)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    c->tx_rate_bytes += len;
    if (now - c->tx_rate_ns >= NANOSECONDS_PER_SECOND) {
        c->tx_rate_bps = mana_muldiv(c->tx_rate_bytes * 8,
                                     NANOSECONDS_PER_SECOND,
                                     now - c->tx_rate_ns);
        c->tx_rate_bytes = 0;
        c->tx_rate_ns = now;
    }
}

static void mana_tx_sent_cb(NetClientState *nc, ssize_t len)
{
    ManaCore *c = qemu_get_nic_opaque(nc);

    c->tx_backpressure = false;
    timer_mod(c->tx_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
}

/*
 * Send one frame.  @f has at least 4 bytes of headroom in front of it
 * for VLAN insertion and room behind it for padding.
 */
static void mana_tx_send(ManaCore *c, ManaQueue *sq, uint8_t *f, size_t len,
                         bool vlan, uint16_t tci)
{
    ManaGfStats *s = &c->gf;

    if (vlan) {
        memmove(f - 4, f, 12);
        f -= 4;
        stw_be_p(f + 12, 0x8100);
        stw_be_p(f + 14, tci);
        len += 4;
    }
    if (len < ETH_MIN_FRAME) {
        memset(f + len, 0, ETH_MIN_FRAME - len);
        len = ETH_MIN_FRAME;
    }
    mana_count_frame(f, len, &s->tx_ucast_pkts, &s->tx_ucast_bytes,
                     &s->tx_bcast_pkts, &s->tx_bcast_bytes,
                     &s->tx_mcast_pkts, &s->tx_mcast_bytes);
    s->tx_bytes += len;
    sq->stats.frames++;
    sq->stats.bytes += len;
    c->tokens -= len;
    mana_tx_rate_account(c, len);
    trace_mana_tx_frame(sq->id, len);
    if (!qemu_send_packet_async(qemu_get_queue(c->nic), f, len,
                                mana_tx_sent_cb)) {
        /* The backend queued it: stop TX until it drains. */
        c->tx_backpressure = true;
    }
}

/* Largest frame the vport sends: the max frame plus a VLAN tag. */
static size_t mana_tx_max_len(ManaCore *c)
{
    return c->adapter_mtu + 4;
}

/* mana_tx_wqe(): the WQE is not done, it resumes when TX may go on */
#define MANA_TX_PAUSED      (-1)

/*
 * Segment a TSO frame.  The clamp paces segments, not descriptors: each
 * segment after the first of a run waits for its tokens (and for a backend
 * that queued the last one), and the WQE resumes from the segment it
 * stopped at when the TX timer fires.  The frame is kept with the SQ
 * meanwhile: reading it again from guest memory for every segment would
 * cost the whole frame per segment.
 */
static int mana_tx_tso(ManaCore *c, ManaQueue *sq, uint8_t *f, size_t len,
                       uint32_t mss, bool vlan, uint16_t tci)
{
    ManaPktInfo pi;
    uint32_t hlen, payload, off, seq;
    uint16_t ip_id;
    uint8_t flags;
    uint32_t i;

    if (mss < MANA_TSO_MIN_MSS) {
        return CQE_TX_INVALID_OOB;
    }
    /* Headers the device cannot segment: no TCP over IP, or cut short. */
    mana_parse(f, len, &pi);
    if (pi.l4 < 0 || pi.proto != IP_PROTO_TCP || len < (size_t)pi.l4 + 20) {
        return CQE_TX_HDR_PROCESSING_ERROR;
    }
    hlen = pi.l4 + (f[pi.l4 + 12] >> 4) * 4;
    if (hlen < (size_t)pi.l4 + 20 || hlen > len) {
        return CQE_TX_HDR_PROCESSING_ERROR;
    }
    /* Every segment must fit the MTU, as a plain frame must. */
    if (hlen + mss + (vlan ? 4 : 0) > mana_tx_max_len(c)) {
        return CQE_TX_MTU_DROP;
    }
    payload = len - hlen;
    seq = ldl_be_p(f + pi.l4 + 4);
    flags = f[pi.l4 + 13];
    ip_id = pi.v6 ? 0 : lduw_be_p(f + pi.l3 + 4);

    /* where a paused WQE stopped (the guest may have shortened it) */
    off = sq->tso_off < payload ? sq->tso_off : 0;
    i = off ? sq->tso_seg : 0;
    do {
        uint32_t n = MIN(mss, payload - off);
        uint8_t *s = c->segbuf + 8;
        bool last = off + n >= payload;

        if (off != sq->tso_off &&
            (c->tx_backpressure || mana_tx_throttled(c))) {
            if (!sq->tso_buf) {
                sq->tso_buf = g_malloc(MANA_TX_MAX_FRAME + 64);
            }
            if (f != sq->tso_buf + 8) {
                memcpy(sq->tso_buf + 8, f, len);
                sq->tso_len = len;
            }
            sq->tso_off = off;
            sq->tso_seg = i;
            return MANA_TX_PAUSED;
        }

        memcpy(s, f, hlen);
        memcpy(s + hlen, f + hlen + off, n);
        if (pi.v6) {
            stw_be_p(s + pi.l3 + 4, hlen - pi.l3 - 40 + n);
        } else {
            stw_be_p(s + pi.l3 + 2, hlen - pi.l3 + n);
            stw_be_p(s + pi.l3 + 4, ip_id + i);
            mana_set_ip_csum(s, &pi);
        }
        stl_be_p(s + pi.l4 + 4, seq + off);
        s[pi.l4 + 13] = flags;
        if (!last) {
            s[pi.l4 + 13] &= ~0x09;     /* FIN, PSH */
        }
        if (i) {
            s[pi.l4 + 13] &= ~0x80;     /* CWR */
        }
        mana_set_l4_csum(s, hlen + n, &pi);
        mana_tx_send(c, sq, s, hlen + n, vlan, tci);
        off += n;
        i++;
    } while (off < payload);
    return CQE_TX_OKAY;
}

static int mana_tx_wqe(ManaCore *c, ManaQueue *sq, ManaWqe *w, ManaSge *sge)
{
    uint32_t s0 = ldl_le_p(w->oob), s1 = ldl_le_p(w->oob + 4), l0 = 0;
    uint32_t vp_offset;
    uint8_t *f = c->txbuf + 8;
    bool vlan = false;
    uint16_t tci = 0;
    size_t len = 0;
    ManaPktInfo pi;
    uint32_t i;

    if (w->oob_size < 8) {
        return CQE_TX_INVALID_OOB;
    }
    vp_offset = s1 >> 24;                       /* short form */
    if ((s0 & 3) == 1) {
        if (w->oob_size < 24) {
            return CQE_TX_INVALID_OOB;
        }
        l0 = ldl_le_p(w->oob + 8);
        vp_offset = (ldl_le_p(w->oob + 12) >> 16) & 0xfff;
        if (l0 & (1u << 3)) {
            vlan = true;
            tci = (((l0 >> 16) & 7) << 13) | (((l0 >> 19) & 1) << 12) |
                  ((l0 >> 20) & 0xfff);
        }
    }
    /* The vport the SQ sends on: configured, at the offset it was given. */
    if (!c->vport.tx_configured) {
        return CQE_TX_VPORT_DISABLED;
    }
    if (vp_offset != 0) {
        return CQE_TX_VPORT_IDX_OUT_OF_RANGE;
    }
    if (sq->tso_off && (w->hdr1 & (1u << 11))) {
        /* the TSO WQE that paused: its frame was kept (mana_tx_tso) */
        f = sq->tso_buf + 8;
        len = sq->tso_len;
    } else {
        sq->tso_off = 0;
        for (i = 0; i < w->num_sge; i++) {
            if (len + sge[i].size > MANA_TX_MAX_FRAME) {
                return CQE_TX_INVALID_OOB;
            }
            if (!mana_dma(c, sge[i].addr, f + len, sge[i].size, false)) {
                c->gf.tx_err_gdma++;
                return CQE_TX_INVALID_OOB;
            }
            len += sge[i].size;
        }
    }
    if (len < ETH_HLEN) {
        return CQE_TX_HDR_PROCESSING_ERROR;
    }
    if (w->hdr1 & (1u << 11)) {
        return mana_tx_tso(c, sq, f, len, (w->hdr1 >> 16) & 0x3fff,
                           vlan, tci);
    }
    if (len + (vlan ? 4 : 0) > mana_tx_max_len(c)) {
        return CQE_TX_MTU_DROP;
    }
    if (s0 & (0x7 << 4)) {
        mana_parse(f, len, &pi);
        if (pi.l3 >= 0 && !pi.v6 && (s0 & (1u << 4))) {
            mana_set_ip_csum(f, &pi);
        }
        if (pi.l4 >= 0 && !pi.frag &&
            (((s0 & (1u << 5)) && pi.proto == IP_PROTO_TCP) ||
             ((s0 & (1u << 6)) && pi.proto == IP_PROTO_UDP))) {
            mana_set_l4_csum(f, len, &pi);
        }
    }
    mana_tx_send(c, sq, f, len, vlan, tci);
    return CQE_TX_OKAY;
}

/* Count a TX error completion where the device's statistics put it. */
static void mana_tx_count_error(ManaCore *c, ManaQueue *sq, int type)
{
    sq->stats.errors++;
    switch (type) {
    case CQE_TX_MTU_DROP:
        c->gf.tx_err_mtu++;
        break;
    case CQE_TX_VPORT_DISABLED:
        c->gf.tx_err_vport_disabled++;
        break;
    case CQE_TX_VPORT_IDX_OUT_OF_RANGE:
        c->gf.tx_err_inval_vport_offset++;
        break;
    case CQE_TX_HDR_PROCESSING_ERROR:
        c->gf.tx_err_hdr++;
        break;
    default:
        c->gf.tx_err_inval_oob++;
        break;
    }
    qemu_log_mask(LOG_GUEST_ERROR, "mana: TX error completion %d on SQ %u\n",
                  type, sq->id);
}

void mana_sq_process(ManaCore *c, ManaQueue *sq)
{
    ManaSge sge[32];
    uint8_t data[60];
    ManaWqe w;
    int type;

    while (sq->valid && sq->cons != sq->tail && !c->tx_backpressure) {
        if (mana_tx_throttled(c)) {
            return;
        }
        if (mana_wqe_read(c, sq, &w, sge, 30) && w.size <= 512) {
            type = mana_tx_wqe(c, sq, &w, sge);
        } else {
            type = CQE_TX_INVALID_OOB;
        }
        if (!sq->valid || type == MANA_TX_PAUSED) {
            return;     /* destroyed meanwhile, or resumes later */
        }
        sq->tso_off = 0;
        sq->tso_seg = 0;
        if (type != CQE_TX_OKAY) {
            mana_tx_count_error(c, sq, type);
        }
        sq->stats.posted++;
        sq->cons += w.size;
        memset(data, 0, sizeof(data));
        data[0] = type | (MANA_CQE_CLIENT << 6);
        stl_le_p(data + 8, (w.offset / 32) << 5);
        mana_cq_post(c, &c->cqs[sq->cq], sq->id, true, data);
    }
}

static void mana_tx_all(ManaCore *c)
{
    int i;

    for (i = 0; i < MANA_MAX_WQS; i++) {
        ManaQueue *q = &c->wqs[(c->tx_rr + i) % MANA_MAX_WQS];

        if (q->valid && q->is_sq && !q->is_hwc) {
            mana_sq_process(c, q);
        }
    }
    c->tx_rr++;
}

void mana_tx_timer_cb(void *opaque)
{
    ManaCore *c = opaque;

    if (!mana_guard_enter(c)) {
        timer_mod(c->tx_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + 1);
        return;
    }
    mana_tx_all(c);
    mana_guard_exit(c);
}
