/*
 * Microsoft Azure Network Adapter (MANA) emulation: RX
 *
 * Frames from the network backend: the destination filter, the RSS
 * (Toeplitz) hash and the indirection table that pick the RQ, the
 * frame scattered into the RQ's oldest WQE with its CQE; and the RX
 * generator that floods the RQs with synthetic frames.
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
#include "mana_int.h"
#include "trace.h"

/* RX OOB flags (dword 1) */
#define RXOOB_HASHTYPE_SHIFT            16
#define RXOOB_IPCSUM_OK                 (1u << 25)
#define RXOOB_IPCSUM_FAIL               (1u << 26)
#define RXOOB_TCPCSUM_OK                (1u << 27)
#define RXOOB_TCPCSUM_FAIL              (1u << 28)
#define RXOOB_UDPCSUM_OK                (1u << 29)
#define RXOOB_UDPCSUM_FAIL              (1u << 30)

#define NDIS_HASH_IPV4                  (1u << 0)
#define NDIS_HASH_TCP_IPV4              (1u << 1)
#define NDIS_HASH_UDP_IPV4              (1u << 2)
#define NDIS_HASH_IPV6                  (1u << 3)
#define NDIS_HASH_TCP_IPV6              (1u << 4)
#define NDIS_HASH_UDP_IPV6              (1u << 5)

/* ------------------------------------------------------------------ */
/* Steering: RSS and the RQs of the vport                              */

void mana_vport_resolve(ManaCore *c)
{
    ManaVport *v = &c->vport;
    ManaQueue *q;
    uint32_t i;

    q = mana_wq_by_obj(c, v->default_rxobj);
    v->default_wq = (q && !q->is_sq) ? (int32_t)q->id : -1;
    for (i = 0; i < v->num_indir; i++) {
        q = mana_wq_by_obj(c, v->indir[i]);
        v->indir_wq[i] = (q && !q->is_sq) ? (int32_t)q->id : -1;
    }
}

/*
 * Toeplitz hash (QEMU's net_toeplitz_add) of @len input bytes placed at
 * byte @pos of the hash input (@pos + @len <= 36, the longest input).
 * The hash is linear (an XOR per set input bit), so the hash of an
 * input is the XOR of the hashes of its parts: the RX generator puts a
 * flow's source port into its template's hash this way.
 */
static uint32_t mana_toeplitz_at(const uint8_t *key, const uint8_t *d,
                                 int len, int pos)
{
    uint8_t in[36] = { 0 };
    uint8_t k[MANA_HASH_KEY_LEN];
    net_toeplitz_key tk;
    uint32_t hash = 0;

    assert(pos >= 0 && len >= 0 && pos + len <= (int)sizeof(in));
    memcpy(in + pos, d, len);
    memcpy(k, key, sizeof(k));
    net_toeplitz_key_init(&tk, k);
    net_toeplitz_add(&hash, in, pos + len, &tk);
    return hash;
}

/*
 * Compute RSS hash, NDIS hash type and checksum flags of a frame, with
 * QEMU's NetRxPkt: it finds the headers (VLAN tags included, not
 * stripped), hashes the IPv4/IPv6 addresses and TCP/UDP ports with the
 * vport's key, and verifies the IPv4 header and TCP/UDP checksums on the
 * received bytes (never reading past them).  A fragment is hashed on
 * its addresses only and has no L4 checksum result.
 */
static void mana_rx_classify(ManaCore *c, const uint8_t *f, size_t len,
                             uint32_t *hash, uint32_t *htype,
                             uint32_t *flags)
{
    struct NetRxPkt *pkt = c->rx_pkt;
    NetRxPktRssType rss;
    EthL4HdrProto l4;
    bool ip4, ip6, ok;

    *hash = 0;
    *htype = 0;
    *flags = 0;
    net_rx_pkt_attach_data(pkt, f, len, false);
    net_rx_pkt_get_protocols(pkt, &ip4, &ip6, &l4);
    if (!ip4 && !ip6) {
        return;
    }
    if (ip6) {
        *flags |= RXOOB_IPCSUM_OK;      /* IPv6 has no header checksum */
    } else if (net_rx_pkt_validate_l3_csum(pkt, &ok)) {
        *flags |= ok ? RXOOB_IPCSUM_OK : RXOOB_IPCSUM_FAIL;
    }
    if (l4 == ETH_L4_HDR_PROTO_TCP || l4 == ETH_L4_HDR_PROTO_UDP) {
        bool tcp = l4 == ETH_L4_HDR_PROTO_TCP;

        if (net_rx_pkt_validate_l4_csum(pkt, &ok)) {
            if (tcp) {
                *flags |= ok ? RXOOB_TCPCSUM_OK : RXOOB_TCPCSUM_FAIL;
            } else {
                *flags |= ok ? RXOOB_UDPCSUM_OK : RXOOB_UDPCSUM_FAIL;
            }
        } else if (!tcp && ip4) {
            /* UDP over IPv4 without a checksum (0): nothing to fail */
            *flags |= RXOOB_UDPCSUM_OK;
        }
        if (ip4) {
            rss = tcp ? NetPktRssIpV4Tcp : NetPktRssIpV4Udp;
            *htype = tcp ? NDIS_HASH_TCP_IPV4 : NDIS_HASH_UDP_IPV4;
        } else {
            rss = tcp ? NetPktRssIpV6Tcp : NetPktRssIpV6Udp;
            *htype = tcp ? NDIS_HASH_TCP_IPV6 : NDIS_HASH_UDP_IPV6;
        }
    } else {
        rss = ip4 ? NetPktRssIpV4 : NetPktRssIpV6;
        *htype = ip4 ? NDIS_HASH_IPV4 : NDIS_HASH_IPV6;
    }
    *hash = net_rx_pkt_calc_rss_hash(pkt, rss, c->vport.hash_key);
}

static ManaQueue *mana_rx_select(ManaCore *c, uint32_t hash, uint32_t htype)
{
    ManaVport *v = &c->vport;
    int32_t idx = v->default_wq;

    if (v->rss_enable && v->num_indir && htype) {
        idx = v->indir_wq[hash & (v->num_indir - 1)];
    }
    if (idx < 0 || idx >= MANA_MAX_WQS || !c->wqs[idx].valid ||
        c->wqs[idx].is_sq || c->wqs[idx].is_hwc) {
        return NULL;
    }
    return &c->wqs[idx];
}

/* ------------------------------------------------------------------ */
/* Receive                                                             */

/* Let the frame waiting for a full RQ be offered again. */
void mana_rx_unblock(ManaCore *c)
{
    if (c->rx_wait_wq < 0) {
        return;
    }
    c->rx_wait_wq = -1;
    qemu_flush_queued_packets(qemu_get_queue(c->nic));
}

/* Put one frame into the oldest posted WQE of @rq. */
static void mana_rx_deliver(ManaCore *c, ManaQueue *rq, const uint8_t *f,
                            size_t len, uint32_t hash, uint32_t htype,
                            uint32_t flags)
{
    ManaSge sge[MANA_RX_MAX_SGE];
    uint8_t data[60] = { 0 };
    uint64_t cap = 0;
    uint32_t i, pkt_len = len;
    size_t done = 0;
    ManaWqe w;

    if (!mana_wqe_read(c, rq, &w, sge, MANA_RX_MAX_SGE)) {
        qemu_log_mask(LOG_GUEST_ERROR, "mana: bad RQ WQE on RQ %u\n", rq->id);
        rq->cons += w.size;
        rq->stats.errors++;
        data[0] = CQE_RX_TRUNCATED | (MANA_CQE_CLIENT << 6);
        mana_cq_post(c, &c->cqs[rq->cq], rq->id, false, data);
        return;
    }
    rq->cons += w.size;
    for (i = 0; i < w.num_sge; i++) {
        cap += sge[i].size;
    }
    if (len > cap) {
        rq->stats.drops++;
        c->gf.rx_truncated++;
        trace_mana_rx_truncated(rq->id, len, cap);
        data[0] = CQE_RX_TRUNCATED | (MANA_CQE_CLIENT << 6);
        mana_cq_post(c, &c->cqs[rq->cq], rq->id, false, data);
        return;
    }
    for (i = 0; i < w.num_sge && done < len; i++) {
        uint32_t n = MIN(sge[i].size, len - done);

        if (!mana_dma(c, sge[i].addr, (void *)(f + done), n, true)) {
            break;
        }
        done += n;
    }
    if (!rq->valid) {
        return;
    }
    if (done < len) {
        /* The buffer could not be written: an error completion. */
        rq->stats.errors++;
        data[0] = CQE_RX_TRUNCATED | (MANA_CQE_CLIENT << 6);
        mana_cq_post(c, &c->cqs[rq->cq], rq->id, false, data);
        return;
    }
    pkt_len = mana_fault_rx_len(c, rq->id, pkt_len, cap);
    data[0] = CQE_RX_OKAY | (MANA_CQE_CLIENT << 6);
    stl_le_p(data + 4, (htype << RXOOB_HASHTYPE_SHIFT) | flags);
    stl_le_p(data + 8, pkt_len & 0xffff);
    stl_le_p(data + 16, hash);
    stl_le_p(data + 56, w.offset);
    rq->stats.frames++;
    rq->stats.bytes += len;
    c->gf.rx_bytes += len;
    mana_count_frame(f, len, &c->gf.rx_ucast_pkts, &c->gf.rx_ucast_bytes,
                     &c->gf.rx_bcast_pkts, &c->gf.rx_bcast_bytes,
                     &c->gf.rx_mcast_pkts, &c->gf.rx_mcast_bytes);
    trace_mana_rx_frame(rq->id, len, hash);
    mana_cq_post(c, &c->cqs[rq->cq], rq->id, false, data);
}

/* Largest frame the vport takes in: the max frame plus a VLAN tag. */
static size_t mana_rx_max_len(ManaCore *c)
{
    return c->adapter_mtu + 4;
}

bool mana_core_can_receive(ManaCore *c)
{
    return c->rx_wait_wq < 0;
}

ssize_t mana_core_receive(ManaCore *c, const uint8_t *buf, size_t size)
{
    uint32_t hash, htype, flags;
    ManaQueue *rq;

    if (!c->hwc_active || !c->vport.rx_enable) {
        c->gf.rx_err_vport_disabled++;
        return size;
    }
    if (size < ETH_HLEN) {
        return size;
    }
    if (!(buf[0] & 1) && memcmp(buf, c->mac, 6)) {
        return size;    /* not for us */
    }
    if (size > mana_rx_max_len(c)) {
        c->gf.rx_err_mtu++;
        trace_mana_rx_mtu_drop(size, mana_rx_max_len(c));
        return size;
    }
    mana_rx_classify(c, buf, size, &hash, &htype, &flags);
    rq = mana_rx_select(c, hash, htype);
    if (!rq) {
        c->gf.rx_discards_nowqe++;
        return size;
    }
    if (rq->cons == rq->tail) {
        if (c->rx_queue_when_full) {
            c->rx_wait_wq = rq->id;
            rq->stats.full++;
            c->gf.rx_queued++;
            trace_mana_rx_blocked(rq->id);
            return 0;
        }
        rq->stats.drops++;
        c->gf.rx_discards_nowqe++;
        return size;
    }
    mana_rx_deliver(c, rq, buf, size, hash, htype, flags);
    return size;
}

/* ------------------------------------------------------------------ */
/* RX generator                                                        */

#define MANA_GEN_SPORT      10000       /* UDP source port of flow 0 */

/* A 16-bit word of a checksummed area changed: RFC 1624, eqn. 3 */
static uint16_t mana_csum_update(uint16_t csum, uint16_t old, uint16_t new)
{
    uint32_t sum = (uint16_t)~csum + (uint16_t)~old + new;

    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return ~sum;
}

/* The part of the hash of the generator's source port @sport */
static uint32_t mana_rxgen_port_hash(const ManaRxGen *g, uint16_t sport)
{
    return g->port_hash[0][sport >> 8] ^ g->port_hash[1][sport & 0xff];
}

/* Build the template (the frame of flow 0) for the current inputs. */
static void mana_rxgen_template(ManaCore *c, const ManaRxGenInputs *in)
{
    ManaRxGen *g = &c->gen;
    uint8_t *f = c->genbuf;
    size_t len = MAX(MIN(in->size, MANA_GEN_MAX_FRAME), 64);
    uint32_t ip_len = len - ETH_HLEN, hash;
    ManaPktInfo pi;
    uint8_t b;
    int i;

    memset(f, 0, len);
    memcpy(f, c->mac, 6);
    f[6] = 0x02;
    f[11] = 0x01;
    stw_be_p(f + 12, 0x0800);
    f[14] = 0x45;
    stw_be_p(f + 16, ip_len);
    f[22] = 64;
    f[23] = IP_PROTO_UDP;
    stl_be_p(f + 26, in->src_ip);
    stl_be_p(f + 30, in->dst_ip);
    stw_be_p(f + 34, MANA_GEN_SPORT);
    stw_be_p(f + 36, in->dst_port);
    stw_be_p(f + 38, ip_len - 20);
    mana_parse(f, len, &pi);
    mana_set_ip_csum(f, &pi);
    mana_set_l4_csum(f, len, &pi);

    g->tmpl_len = len;
    g->tmpl_csum = lduw_be_p(f + 40);
    mana_rx_classify(c, f, len, &hash, &g->tmpl_htype, &g->tmpl_flags);
    /*
     * The source port is bytes 8-9 of the hash input: the part of each
     * value of each byte, so that a flow's hash costs two lookups. Take
     * the template's port out of the hash: flows put theirs back.
     */
    for (i = 0; i < 256; i++) {
        b = i;
        g->port_hash[0][i] = mana_toeplitz_at(in->hash_key, &b, 1, 8);
        g->port_hash[1][i] = mana_toeplitz_at(in->hash_key, &b, 1, 9);
    }
    g->tmpl_hash = hash ^ mana_rxgen_port_hash(g, MANA_GEN_SPORT);
    g->tmpl_in = *in;
    g->tmpl_valid = true;
}

/*
 * Make the template current, rebuilt only when what it is made of changed
 * (the rxgen-* properties, the RSS key).
 */
static void mana_rxgen_prepare(ManaCore *c)
{
    ManaRxGenInputs in;

    memset(&in, 0, sizeof(in));
    in.size = c->gen.size;
    in.src_ip = c->gen.src_ip;
    in.dst_ip = c->gen.dst_ip;
    in.dst_port = c->gen.dst_port;
    memcpy(in.hash_key, c->vport.hash_key, MANA_HASH_KEY_LEN);
    if (!c->gen.tmpl_valid || memcmp(&in, &c->gen.tmpl_in, sizeof(in))) {
        mana_rxgen_template(c, &in);
    }
}

/* Turn the template into the frame of @sport: port, then its checksum. */
static void mana_rxgen_set_flow(ManaCore *c, uint16_t sport)
{
    uint8_t *f = c->genbuf;
    uint16_t cs = mana_csum_update(c->gen.tmpl_csum, MANA_GEN_SPORT, sport);

    stw_be_p(f + 34, sport);
    stw_be_p(f + 40, cs ? cs : 0xffff);
}

#define MANA_GEN_BATCH      64          /* frames per hold of the BQL */
#define MANA_GEN_IDLE       (-1)        /* wait for a kick */

/*
 * What a batch that cannot go on returns: MANA_GEN_IDLE, or with a
 * duration set, the ms left of it, so that the run ends on time even
 * when no buffer comes meanwhile (then @wait_ms at most).
 */
static int64_t mana_rxgen_wait(const ManaRxGen *g, int64_t now,
                               int64_t wait_ms)
{
    int64_t left;

    if (!g->duration_ms) {
        return wait_ms;
    }
    left = g->run_ns + (int64_t)g->duration_ms * SCALE_MS - now;
    left = MAX(1, DIV_ROUND_UP(left, SCALE_MS));
    return wait_ms == MANA_GEN_IDLE ? left : MIN(wait_ms, left);
}

/*
 * How many frames the pace allows now (@budget at most), or 0 and in
 * @wait_ms how long until the next one. The pace restarts when the rate
 * changes, so that a new rate does not make up for the old one.
 */
static uint32_t mana_rxgen_pace(ManaRxGen *g, int64_t now, uint32_t budget,
                                int64_t *wait_ms)
{
    uint64_t due;

    if (!g->rate) {
        return budget;
    }
    if (g->paced_rate != g->rate) {
        g->paced_rate = g->rate;
        g->pace_ns = now;
        g->paced = 0;
    }
    due = muldiv64(now - g->pace_ns, g->rate, NANOSECONDS_PER_SECOND);
    if (due > g->paced) {
        return MIN(due - g->paced, budget);
    }
    /* the next frame is due at pace_ns + (paced + 1) / rate */
    *wait_ms = MAX(1, (int64_t)(muldiv64(g->paced + 1, NANOSECONDS_PER_SECOND,
                                         g->rate) -
                                (now - g->pace_ns)) / SCALE_MS);
    return 0;
}

/*
 * One batch of the generator, under the BQL: per frame, the flow's RQ is
 * found from its hash (the template's XOR its source port's part) before
 * anything is written; a frame is made only for an RQ with a posted
 * buffer, by patching the port and the UDP checksum of the template.
 * Returns 0 to run again at once, the ms to wait for the pace, or
 * MANA_GEN_IDLE to wait for a kick (stopped, or no RQ has a buffer).
 */
static int64_t mana_rxgen_batch(ManaCore *c)
{
    ManaRxGen *g = &c->gen;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_REALTIME), wait_ms = 0;
    uint32_t budget, idle = 0, flows;

    if (!g->running) {
        return MANA_GEN_IDLE;
    }
    if (g->duration_ms &&
        now - g->run_ns >= (int64_t)g->duration_ms * SCALE_MS) {
        mana_core_rxgen_set(c, false);
        return MANA_GEN_IDLE;
    }
    if (!c->hwc_active || !c->vport.rx_enable || !runstate_is_running()) {
        return mana_rxgen_wait(g, now, MANA_GEN_IDLE);
    }
    budget = mana_rxgen_pace(g, now, MANA_GEN_BATCH, &wait_ms);
    if (!budget) {
        return mana_rxgen_wait(g, now, wait_ms);
    }
    mana_rxgen_prepare(c);
    if (g->tmpl_len > mana_rx_max_len(c)) {
        /* over the max frame: dropped at the port, once per kick */
        c->gf.rx_err_mtu++;
        return mana_rxgen_wait(g, now, MANA_GEN_IDLE);
    }
    flows = MAX(g->flows, 1);
    while (budget && idle < flows) {
        uint32_t flow = g->next_flow++ % flows, hash;
        uint16_t sport = MANA_GEN_SPORT + flow;
        ManaQueue *rq;

        hash = g->tmpl_hash ^ mana_rxgen_port_hash(g, sport);
        rq = mana_rx_select(c, hash, g->tmpl_htype);
        if (!rq || rq->cons == rq->tail) {
            idle++;
            continue;
        }
        idle = 0;
        budget--;
        mana_rxgen_set_flow(c, sport);
        mana_rx_deliver(c, rq, c->genbuf, g->tmpl_len, hash, g->tmpl_htype,
                        g->tmpl_flags);
        g->frames++;
        g->paced++;
        g->bytes += g->tmpl_len;
        if (!g->running || !c->hwc_active) {
            return MANA_GEN_IDLE;   /* what the delivery's DMA did stopped us */
        }
    }
    return budget ? mana_rxgen_wait(g, now, MANA_GEN_IDLE) : 0;
}

/*
 * The generator's thread. It takes the BQL for a batch at a time, so the
 * vCPUs (multi-threaded TCG) run the guest's RX path while it builds and
 * writes the next frames; the main loop is not in the way. A batch runs
 * under the device's re-entrancy guard, as a guarded bottom half would: a
 * frame DMA'd into the device's own BAR is refused, not dispatched.
 */
static void *mana_rxgen_thread(void *opaque)
{
    ManaCore *c = opaque;
    MemReentrancyGuard *guard = &DEVICE(c->owner)->mem_reentrancy_guard;
    int64_t wait_ms = MANA_GEN_IDLE;
    bool engaged;

    qemu_mutex_lock(&c->gen_lock);
    while (!c->gen_exit) {
        if (!c->gen_kicked) {
            if (wait_ms == MANA_GEN_IDLE) {
                qemu_cond_wait(&c->gen_cond, &c->gen_lock);
            } else {
                qemu_cond_timedwait(&c->gen_cond, &c->gen_lock, wait_ms);
            }
            if (c->gen_exit) {
                break;
            }
        }
        c->gen_kicked = false;
        qemu_mutex_unlock(&c->gen_lock);

        bql_lock();
        qemu_mutex_lock(&c->gen_lock);
        if (c->gen_exit) {          /* unrealize let go of the BQL to join */
            bql_unlock();
            break;
        }
        qemu_mutex_unlock(&c->gen_lock);
        engaged = guard->engaged_in_io;
        guard->engaged_in_io = true;
        wait_ms = mana_rxgen_batch(c);
        guard->engaged_in_io = engaged;
        bql_unlock();

        qemu_mutex_lock(&c->gen_lock);
        if (!wait_ms) {
            c->gen_kicked = true;
        }
    }
    qemu_mutex_unlock(&c->gen_lock);
    return NULL;
}

void mana_rxgen_kick(ManaCore *c)
{
    qemu_mutex_lock(&c->gen_lock);
    c->gen_kicked = true;
    qemu_cond_signal(&c->gen_cond);
    qemu_mutex_unlock(&c->gen_lock);
}

static void mana_rxgen_vm_state(void *opaque, bool running, RunState state)
{
    ManaCore *c = opaque;

    if (running && c->gen.running) {
        mana_rxgen_kick(c);
    }
}

void mana_rxgen_start(ManaCore *c)
{
    qemu_mutex_init(&c->gen_lock);
    qemu_cond_init(&c->gen_cond);
    c->gen_kicked = c->gen_exit = false;
    qemu_thread_create(&c->gen_thread, "mana-rxgen", mana_rxgen_thread, c,
                       QEMU_THREAD_JOINABLE);
    c->gen_vmstate = qemu_add_vm_change_state_handler(mana_rxgen_vm_state, c);
}

/* Called with the BQL held, which the thread may be waiting for. */
void mana_rxgen_stop(ManaCore *c)
{
    qemu_del_vm_change_state_handler(c->gen_vmstate);
    c->gen_vmstate = NULL;
    qemu_mutex_lock(&c->gen_lock);
    c->gen_exit = true;
    qemu_cond_signal(&c->gen_cond);
    qemu_mutex_unlock(&c->gen_lock);
    bql_unlock();
    qemu_thread_join(&c->gen_thread);
    bql_lock();
    qemu_cond_destroy(&c->gen_cond);
    qemu_mutex_destroy(&c->gen_lock);
}

void mana_core_rxgen_set(ManaCore *c, bool on)
{
    ManaRxGen *g = &c->gen;

    if (on && !g->running) {
        g->run_ns = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
        g->paced_rate = 0;          /* the pace starts again */
    }
    g->running = on;
    trace_mana_rxgen(on, g->size, g->flows);
    if (on) {
        mana_rxgen_kick(c);
    }
}
