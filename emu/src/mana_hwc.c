/*
 * Microsoft Azure Network Adapter (MANA) emulation: hardware channel
 *
 * The shared memory channel (SMC) in BAR0 that establishes and destroys
 * the hardware channel (HWC), the HWC's request/response transport over
 * its own queues, and the messages it answers.
 *
 * Copyright (c) 2025 The MANA emulation authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/bswap.h"
#include "qemu/host-utils.h"
#include "mana_int.h"
#include "trace.h"

/* ------------------------------------------------------------------ */
/* Shared memory channel                                               */

static uint64_t mana_smc_pfn(const uint8_t *b, int i)
{
    uint64_t low = 0;
    uint16_t hi = lduw_le_p(b + 24);
    int k;

    for (k = 5; k >= 0; k--) {
        low = (low << 8) | b[6 * i + k];
    }
    return low | ((uint64_t)((hi >> (4 * i)) & 0xf) << 48);
}

static void mana_hwc_establish(ManaCore *c)
{
    uint8_t b[MANA_SMC_SIZE];
    uint64_t eq_addr, cq_addr, rq_addr, sq_addr;
    ManaQueue *eq, *cq, *rq, *sq;
    uint32_t msix;
    int i;

    for (i = 0; i < MANA_SMC_SIZE / 4; i++) {
        stl_le_p(b + 4 * i, c->smc[i]);
    }
    eq_addr = mana_smc_pfn(b, 0) << 12;
    cq_addr = mana_smc_pfn(b, 1) << 12;
    rq_addr = mana_smc_pfn(b, 2) << 12;
    sq_addr = mana_smc_pfn(b, 3) << 12;
    msix = lduw_le_p(b + 26);

    if (c->hwc_active) {
        /* A new driver instance without teardown: start over. */
        mana_clear_objects(c);
    }
    if (msix >= c->vectors) {
        qemu_log_mask(LOG_GUEST_ERROR, "mana: ESTABLISH_HWC with MSI-X "
                      "index %u, the device has %u\n", msix, c->vectors);
        c->smc[7] = SMC_MSG_ESTABLISH_HWC | SMC_DIR_RESPONSE |
                    (GDMA_STATUS_INVALID << 8);
        return;
    }

    eq = mana_alloc(c->eqs, MANA_MAX_EQS, 0);
    mana_queue_set_contig(eq, eq_addr, MANA_HWC_MSG_SIZE);
    eq->entries = eq->size / 16;
    eq->prod = eq->entries;
    eq->armed = true;
    eq->msix = msix;

    cq = mana_alloc(c->cqs, MANA_MAX_CQS, 0);
    mana_queue_set_contig(cq, cq_addr, MANA_HWC_MSG_SIZE);
    cq->entries = cq->size / 64;
    cq->prod = cq->entries;
    cq->armed = true;
    cq->parent = eq->id;

    rq = mana_alloc(c->wqs, MANA_MAX_WQS, 0);
    mana_queue_set_contig(rq, rq_addr, MANA_HWC_MSG_SIZE);
    rq->is_hwc = true;
    rq->cq = cq->id;

    sq = mana_alloc(c->wqs, MANA_MAX_WQS, 0);
    mana_queue_set_contig(sq, sq_addr, MANA_HWC_MSG_SIZE);
    sq->is_hwc = true;
    sq->is_sq = true;
    sq->cq = cq->id;

    c->hwc_eq = eq->id;
    c->hwc_cq = cq->id;
    c->hwc_rq = rq->id;
    c->hwc_sq = sq->id;
    c->hwc_active = true;
    c->hwc_resp_pending = false;
    c->hwc_fence_wq = -1;
    trace_mana_hwc_establish(eq_addr, cq_addr, rq_addr, sq_addr, msix);

    /* Answer the SMC first, then post the init events. */
    c->smc[7] = SMC_MSG_ESTABLISH_HWC | SMC_DIR_RESPONSE;

    mana_eq_post(c, eq, EQE_HWC_INIT_EQ_ID_DB, eq->id | (0u << 16), 0, 0);
#define HWC_DATA(t, v) \
    mana_eq_post(c, eq, EQE_HWC_INIT_DATA, ((t) << 24) | ((v) & 0xffffff), 0, 0)
    HWC_DATA(HWC_DATA_CQID, cq->id);
    HWC_DATA(HWC_DATA_RQID, rq->id);
    HWC_DATA(HWC_DATA_SQID, sq->id);
    HWC_DATA(HWC_DATA_QUEUE_DEPTH, 1);
    HWC_DATA(HWC_DATA_MAX_REQUEST, MANA_HWC_MSG_SIZE);
    HWC_DATA(HWC_DATA_MAX_RESPONSE, MANA_HWC_MSG_SIZE);
    HWC_DATA(HWC_DATA_MAX_NUM_CQS, MANA_REPORTED_MAX_NUM_CQS);
    HWC_DATA(HWC_DATA_PDID, MANA_PDID);
    HWC_DATA(HWC_DATA_GPA_MKEY, MANA_GPA_MKEY);
#undef HWC_DATA
    mana_eq_post(c, eq, EQE_HWC_INIT_DONE, 0, 0, 0);
}

void mana_smc_command(ManaCore *c, uint32_t val)
{
    uint32_t type = val & 7;

    trace_mana_smc_command(val);
    switch (type) {
    case SMC_MSG_ESTABLISH_HWC:
        mana_hwc_establish(c);
        break;
    case SMC_MSG_DESTROY_HWC:
        mana_clear_objects(c);
        c->smc[7] = SMC_MSG_DESTROY_HWC | SMC_DIR_RESPONSE;
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "mana: unknown SMC message 0x%x\n",
                      val);
        c->smc[7] = type | SMC_DIR_RESPONSE | (1u << 8);
        break;
    }
}

/* ------------------------------------------------------------------ */
/* HWC message handlers                                                */

typedef struct ManaMsg {
    const uint8_t *req;
    uint32_t req_len;
    uint8_t *resp;
    uint32_t resp_len;      /* bytes the caller can take */
    uint32_t dev_id;
} ManaMsg;

static uint32_t mana_msg_verify_ver(ManaCore *c, ManaMsg *m)
{
    stq_le_p(m->resp + 0x20, 1);        /* gdma_protocol_ver */
    stq_le_p(m->resp + 0x28, 0);        /* pf_cap_flags1 */
    return GDMA_STATUS_OK;
}

static uint32_t mana_msg_max_resources(ManaCore *c, ManaMsg *m)
{
    stl_le_p(m->resp + 0x24, c->queues);            /* max_sq */
    stl_le_p(m->resp + 0x28, c->queues);            /* max_rq */
    stl_le_p(m->resp + 0x2c, MANA_MAX_CQS - 1);     /* max_cq */
    stl_le_p(m->resp + 0x30, MANA_MAX_EQS - 1);     /* max_eq */
    stl_le_p(m->resp + 0x34, MANA_DB_PAGES);        /* max_db */
    stl_le_p(m->resp + 0x38, 0);
    stl_le_p(m->resp + 0x3c, 0);
    stl_le_p(m->resp + 0x40, 0);
    stl_le_p(m->resp + 0x44, c->vectors);           /* max_msix */
    return GDMA_STATUS_OK;
}

static uint32_t mana_msg_list_devices(ManaCore *c, ManaMsg *m)
{
    stl_le_p(m->resp + 0x20, 2);
    stw_le_p(m->resp + 0x28, 1);        /* HWC */
    stw_le_p(m->resp + 0x2a, 0);
    stw_le_p(m->resp + 0x2c, 2);        /* MANA */
    stw_le_p(m->resp + 0x2e, 0);
    return GDMA_STATUS_OK;
}

static uint32_t mana_msg_register_device(ManaCore *c, ManaMsg *m)
{
    c->registered = true;
    stl_le_p(m->resp + 0x20, MANA_PDID);
    stl_le_p(m->resp + 0x24, MANA_GPA_MKEY);
    stl_le_p(m->resp + 0x28, 0);        /* db_id */
    return GDMA_STATUS_OK;
}

static uint32_t mana_msg_create_dma_region(ManaCore *c, ManaMsg *m)
{
    uint64_t length = ldq_le_p(m->req + 0x28);
    uint32_t offset = ldl_le_p(m->req + 0x30);
    uint32_t page_type = ldl_le_p(m->req + 0x34);
    uint32_t count = ldl_le_p(m->req + 0x38);
    uint32_t list_len = ldl_le_p(m->req + 0x3c);
    ManaRegion *r = NULL;
    uint32_t i;

    /*
     * As the hardware: 4 KiB pages (page type 0), page aligned, and a
     * length of exactly the pages given, at least one page.
     */
    if (m->req_len < 0x40 || count == 0 || count > MANA_MAX_REGION_PAGES ||
        list_len != count || offset != 0 || page_type != 0 ||
        0x40 + 8ull * count > m->req_len ||
        length != (uint64_t)count * MANA_PAGE_SIZE) {
        return GDMA_STATUS_INVALID;
    }
    for (i = 0; i < count; i++) {
        if (ldq_le_p(m->req + 0x40 + 8 * i) & (MANA_PAGE_SIZE - 1)) {
            return GDMA_STATUS_INVALID;
        }
    }
    for (i = 0; i < MANA_MAX_REGIONS; i++) {
        uint32_t k = (c->next_region + i) % MANA_MAX_REGIONS;

        if (!c->regions[k].valid) {
            r = &c->regions[k];
            c->next_region = k + 1;
            break;
        }
    }
    if (!r) {
        return GDMA_STATUS_INVALID;
    }
    r->valid = true;
    r->length = length;
    r->npages = count;
    r->pages = g_new(uint64_t, count);
    for (i = 0; i < count; i++) {
        r->pages[i] = ldq_le_p(m->req + 0x40 + 8 * i);
    }
    stq_le_p(m->resp + 0x20, (r - c->regions) + 1);
    trace_mana_dma_region(r - c->regions + 1, length, count);
    return GDMA_STATUS_OK;
}

static uint32_t mana_msg_destroy_dma_region(ManaCore *c, ManaMsg *m)
{
    ManaRegion *r = mana_region_lookup(c, ldq_le_p(m->req + 0x28));

    if (!r) {
        return GDMA_STATUS_INVALID;
    }
    mana_region_free(r);
    return GDMA_STATUS_OK;
}

static uint32_t mana_msg_create_queue(ManaCore *c, ManaMsg *m)
{
    uint32_t type = ldl_le_p(m->req + 0x28);
    ManaRegion *r = mana_region_lookup(c, ldq_le_p(m->req + 0x38));
    uint32_t size = ldl_le_p(m->req + 0x44);
    uint32_t msix = ldl_le_p(m->req + 0x4c);
    ManaQueue *eq;

    if (type != GDMA_EQ_TYPE || !r || !mana_region_fits(r, size) ||
        msix >= c->vectors) {
        return GDMA_STATUS_INVALID;
    }
    eq = mana_alloc(c->eqs, MANA_MAX_EQS, 0);
    if (!eq) {
        return GDMA_STATUS_INVALID;
    }
    mana_queue_take_region(eq, r, size);
    eq->entries = size / 16;
    eq->prod = eq->entries;
    eq->armed = true;
    eq->msix = msix;
    stl_le_p(m->resp + 0x20, eq->id);
    trace_mana_create_eq(eq->id, size, msix);
    return GDMA_STATUS_OK;
}

static uint32_t mana_msg_disable_queue(ManaCore *c, ManaMsg *m)
{
    uint32_t type = ldl_le_p(m->req + 0x28);
    uint32_t id = ldl_le_p(m->req + 0x2c);

    if (type != GDMA_EQ_TYPE || id >= MANA_MAX_EQS || !c->eqs[id].valid ||
        id == c->hwc_eq) {
        return GDMA_STATUS_INVALID;
    }
    trace_mana_destroy_queue("eq", id);
    mana_queue_free(&c->eqs[id]);
    return GDMA_STATUS_OK;
}

static uint32_t mana_msg_test_eqe(ManaCore *c, ManaMsg *m)
{
    uint32_t id = ldl_le_p(m->req + 0x28);

    if (id >= MANA_MAX_EQS || !c->eqs[id].valid) {
        return GDMA_STATUS_INVALID;
    }
    mana_eq_post(c, &c->eqs[id], EQE_TEST_EVENT, 0, 0, 0);
    return GDMA_STATUS_OK;
}

static uint32_t mana_msg_hwc_timeout(ManaCore *c, ManaMsg *m)
{
    uint32_t t = ldl_le_p(m->req + 0x28);

    stl_le_p(m->resp + 0x20, t ? t : 30000);
    return GDMA_STATUS_OK;
}

static uint32_t mana_msg_dev_config(ManaCore *c, ManaMsg *m)
{
    stw_le_p(m->resp + 0x40, 1);                /* max_num_vports */
    stl_le_p(m->resp + 0x44, c->queues);        /* max_num_eqs */
    stw_le_p(m->resp + 0x48, c->adapter_mtu);   /* V2: max frame */
    return GDMA_STATUS_OK;
}

static uint32_t mana_msg_vport_config(ManaCore *c, ManaMsg *m)
{
    if (ldl_le_p(m->req + 0x28) != 0) {
        return GDMA_STATUS_INVALID;
    }
    stl_le_p(m->resp + 0x20, c->queues);
    stl_le_p(m->resp + 0x24, c->queues);
    stl_le_p(m->resp + 0x28, c->num_indir_ent);
    memcpy(m->resp + 0x30, c->mac, 6);
    stq_le_p(m->resp + 0x38, MANA_VPORT_HANDLE);
    return GDMA_STATUS_OK;
}

static uint32_t mana_msg_vport_tx(ManaCore *c, ManaMsg *m)
{
    if (ldq_le_p(m->req + 0x28) != MANA_VPORT_HANDLE) {
        return GDMA_STATUS_INVALID;
    }
    c->vport.tx_configured = true;
    stw_le_p(m->resp + 0x20, 0);        /* tx_vport_offset */
    m->resp[0x22] = 1;                  /* short_form_allowed */
    return GDMA_STATUS_OK;
}

/* Number of SQs (or RQs) of the vport: held to max_sq / max_rq. */
static uint32_t mana_count_wqs(ManaCore *c, bool is_sq)
{
    uint32_t i, n = 0;

    for (i = 0; i < MANA_MAX_WQS; i++) {
        if (c->wqs[i].valid && !c->wqs[i].is_hwc &&
            c->wqs[i].is_sq == is_sq) {
            n++;
        }
    }
    return n;
}

static uint32_t mana_msg_create_wq(ManaCore *c, ManaMsg *m)
{
    uint32_t type = ldl_le_p(m->req + 0x30);
    ManaRegion *wr = mana_region_lookup(c, ldq_le_p(m->req + 0x38));
    ManaRegion *cr = mana_region_lookup(c, ldq_le_p(m->req + 0x40));
    uint32_t wq_size = ldl_le_p(m->req + 0x48);
    uint32_t cq_size = ldl_le_p(m->req + 0x4c);
    uint32_t parent = ldl_le_p(m->req + 0x54);
    ManaQueue *wq, *cq;

    if (ldq_le_p(m->req + 0x28) != MANA_VPORT_HANDLE ||
        (type != GDMA_WQ_SQ && type != GDMA_WQ_RQ) || !wr || !cr ||
        wr == cr || !mana_region_fits(wr, wq_size) ||
        !mana_region_fits(cr, cq_size) || parent >= MANA_MAX_EQS ||
        !c->eqs[parent].valid || (c->hwc_active && parent == c->hwc_eq) ||
        mana_count_wqs(c, type == GDMA_WQ_SQ) >= c->queues) {
        return GDMA_STATUS_INVALID;
    }
    wq = mana_alloc(c->wqs, MANA_MAX_WQS, 0);
    if (!wq) {
        return GDMA_STATUS_INVALID;
    }
    wq->valid = true;       /* reserve it while the CQ is allocated */
    cq = mana_alloc(c->cqs, MANA_MAX_CQS, 0);
    if (!cq) {
        wq->valid = false;
        return GDMA_STATUS_INVALID;
    }
    mana_queue_take_region(wq, wr, wq_size);
    mana_queue_take_region(cq, cr, cq_size);
    cq->entries = cq_size / 64;
    cq->prod = cq->entries;
    cq->armed = true;
    cq->parent = parent;
    wq->is_sq = type == GDMA_WQ_SQ;
    wq->cq = cq->id;
    wq->obj = ++c->next_obj;

    stl_le_p(m->resp + 0x20, wq->id);
    stl_le_p(m->resp + 0x24, cq->id);
    stq_le_p(m->resp + 0x28, wq->obj);
    trace_mana_create_wq(wq->is_sq ? "sq" : "rq", wq->id, wq_size, cq->id,
                         cq_size, parent);
    mana_vport_resolve(c);
    return GDMA_STATUS_OK;
}

static uint32_t mana_msg_destroy_wq(ManaCore *c, ManaMsg *m)
{
    ManaQueue *wq = mana_wq_by_obj(c, ldq_le_p(m->req + 0x30));
    bool waited;

    if (!wq) {
        return GDMA_STATUS_INVALID;
    }
    trace_mana_destroy_queue(wq->is_sq ? "sq" : "rq", wq->id);
    if (wq->cq < MANA_MAX_CQS) {
        mana_queue_free(&c->cqs[wq->cq]);
    }
    waited = c->rx_wait_wq == (int32_t)wq->id;
    mana_queue_free(wq);
    if (c->hwc_fence_wq >= 0 && !c->wqs[c->hwc_fence_wq].valid) {
        c->hwc_fence_wq = -1;
    }
    mana_vport_resolve(c);
    if (waited) {
        mana_rx_unblock(c);     /* its frame goes elsewhere or is dropped */
    }
    return GDMA_STATUS_OK;
}

static bool mana_rq_obj_ok(ManaCore *c, uint64_t obj)
{
    ManaQueue *q = mana_wq_by_obj(c, obj);

    return q && !q->is_sq;
}

static uint32_t mana_msg_vport_rx(ManaCore *c, ManaMsg *m)
{
    ManaVport *v = &c->vport;
    uint32_t n = lduw_le_p(m->req + 0x30);
    uint32_t off = lduw_le_p(m->req + 0x32);
    uint32_t i;

    if (m->req_len < 0x78 || ldq_le_p(m->req + 0x28) != MANA_VPORT_HANDLE) {
        return GDMA_STATUS_INVALID;
    }
    /*
     * Validate everything before changing anything: the default RQ and
     * every table entry must be an RQ of this vport, the table holds the
     * advertised number of entries (a power of two) inside the request.
     */
    if (m->req[0x3c] && !mana_rq_obj_ok(c, ldq_le_p(m->req + 0x40))) {
        return GDMA_STATUS_INVALID;
    }
    if (m->req[0x3e]) {
        if (n == 0 || n > c->num_indir_ent || !is_power_of_2(n) ||
            off < 0x78 || off + 8ull * n > m->req_len) {
            return GDMA_STATUS_INVALID;
        }
        for (i = 0; i < n; i++) {
            if (!mana_rq_obj_ok(c, ldq_le_p(m->req + off + 8 * i))) {
                return GDMA_STATUS_INVALID;
            }
        }
    }
    v->rx_enable = ldl_le_p(m->req + 0x34) != 0;
    v->rss_enable = ldl_le_p(m->req + 0x38) != 0;
    if (m->req[0x3c]) {
        v->default_rxobj = ldq_le_p(m->req + 0x40);
    }
    if (m->req[0x3d]) {
        memcpy(v->hash_key, m->req + 0x48, MANA_HASH_KEY_LEN);
    }
    if (m->req[0x3e]) {
        v->num_indir = n;
        for (i = 0; i < n; i++) {
            v->indir[i] = ldq_le_p(m->req + off + 8 * i);
        }
    }
    mana_vport_resolve(c);
    trace_mana_vport_rx(v->rx_enable, v->rss_enable, v->num_indir,
                        v->default_wq);
    mana_rx_unblock(c);     /* the waiting frame may be steered elsewhere */
    return GDMA_STATUS_OK;
}

static uint32_t mana_msg_fence_rq(ManaCore *c, ManaMsg *m)
{
    ManaQueue *wq = mana_wq_by_obj(c, ldq_le_p(m->req + 0x28));

    if (!wq || wq->is_sq) {
        return GDMA_STATUS_INVALID;
    }
    /* The fence CQE follows the response (see mana_hwc_after_resp). */
    c->hwc_fence_wq = wq->id;
    return GDMA_STATUS_OK;
}

static uint32_t mana_msg_gf_stat(ManaCore *c, ManaMsg *m)
{
    ManaGfStats *s = &c->gf;
    uint8_t *r = m->resp;

    if (m->resp_len < 0x100) {
        return GDMA_STATUS_OK;
    }
    stq_le_p(r + 0x20, ldq_le_p(m->req + 0x28));
    stq_le_p(r + 0x28, s->rx_discards_nowqe);
    stq_le_p(r + 0x30, s->rx_err_vport_disabled);
    stq_le_p(r + 0x38, s->rx_bytes);
    stq_le_p(r + 0x40, s->rx_ucast_pkts);
    stq_le_p(r + 0x48, s->rx_ucast_bytes);
    stq_le_p(r + 0x50, s->rx_bcast_pkts);
    stq_le_p(r + 0x58, s->rx_bcast_bytes);
    stq_le_p(r + 0x60, s->rx_mcast_pkts);
    stq_le_p(r + 0x68, s->rx_mcast_bytes);
    stq_le_p(r + 0x78, s->tx_err_vport_disabled);
    stq_le_p(r + 0x80, s->tx_err_inval_vport_offset);
    stq_le_p(r + 0xb0, s->tx_err_mtu);
    stq_le_p(r + 0xb8, s->tx_err_inval_oob);
    stq_le_p(r + 0xc0, s->tx_bytes);
    stq_le_p(r + 0xc8, s->tx_ucast_pkts);
    stq_le_p(r + 0xd0, s->tx_ucast_bytes);
    stq_le_p(r + 0xd8, s->tx_bcast_pkts);
    stq_le_p(r + 0xe0, s->tx_bcast_bytes);
    stq_le_p(r + 0xe8, s->tx_mcast_pkts);
    stq_le_p(r + 0xf0, s->tx_mcast_bytes);
    stq_le_p(r + 0xf8, s->tx_err_gdma);
    return GDMA_STATUS_OK;
}

static uint32_t mana_msg_link_config(ManaCore *c, ManaMsg *m)
{
    if (!c->bw_clamp_supported) {
        return GDMA_STATUS_CMD_UNSUPPORTED;
    }
    if (ldq_le_p(m->req + 0x28) != MANA_VPORT_HANDLE) {
        return GDMA_STATUS_INVALID;
    }
    stl_le_p(m->resp + 0x20, c->max_speed_mbps);
    m->resp[0x24] = c->qos_unconfigured;
    stl_le_p(m->resp + 0x28, mana_core_current_speed(c));
    return GDMA_STATUS_OK;
}

static uint32_t mana_msg_set_bw_clamp(ManaCore *c, ManaMsg *m)
{
    uint32_t enable = ldl_le_p(m->req + 0x30);
    uint32_t mbps = ldl_le_p(m->req + 0x34);

    if (!c->bw_clamp_supported) {
        return GDMA_STATUS_CMD_UNSUPPORTED;
    }
    if (m->req_len < 0x38 || ldq_le_p(m->req + 0x28) != MANA_VPORT_HANDLE) {
        return GDMA_STATUS_INVALID;
    }
    if (enable && (mbps < 100 || mbps % 100 || mbps > c->max_speed_mbps)) {
        return GDMA_STATUS_INVALID;
    }
    /* Without QoS for the vPort the host has nothing to clamp. */
    if (!c->qos_unconfigured) {
        mana_core_set_clamp(c, enable ? mbps : 0);
    }
    m->resp[0x20] = c->qos_unconfigured;
    return GDMA_STATUS_OK;
}

typedef uint32_t (*ManaMsgFn)(ManaCore *c, ManaMsg *m);

typedef struct ManaMsgDesc {
    uint32_t code;
    const char *name;
    uint32_t req_len;       /* minimum request length */
    uint16_t max_ver;       /* highest response version we produce */
    ManaMsgFn fn;
} ManaMsgDesc;

static const ManaMsgDesc mana_msgs[] = {
    { GDMA_VERIFY_VF_DRIVER_VERSION, "VERIFY_VF_DRIVER_VERSION", 0x40, 1,
      mana_msg_verify_ver },
    { GDMA_QUERY_MAX_RESOURCES, "QUERY_MAX_RESOURCES", 0x28, 1,
      mana_msg_max_resources },
    { GDMA_LIST_DEVICES, "LIST_DEVICES", 0x28, 1, mana_msg_list_devices },
    { GDMA_REGISTER_DEVICE, "REGISTER_DEVICE", 0x28, 1,
      mana_msg_register_device },
    { GDMA_DEREGISTER_DEVICE, "DEREGISTER_DEVICE", 0x28, 1, NULL },
    { GDMA_GENERATE_TEST_EQE, "GENERATE_TEST_EQE", 0x2c, 1,
      mana_msg_test_eqe },
    { GDMA_CREATE_QUEUE, "CREATE_QUEUE", 0x50, 1, mana_msg_create_queue },
    { GDMA_DISABLE_QUEUE, "DISABLE_QUEUE", 0x30, 1, mana_msg_disable_queue },
    { GDMA_CREATE_DMA_REGION, "CREATE_DMA_REGION", 0x40, 1,
      mana_msg_create_dma_region },
    { GDMA_DESTROY_DMA_REGION, "DESTROY_DMA_REGION", 0x30, 1,
      mana_msg_destroy_dma_region },
    { GDMA_QUERY_HWC_TIMEOUT, "QUERY_HWC_TIMEOUT", 0x2c, 1,
      mana_msg_hwc_timeout },
    { MANA_QUERY_DEV_CONFIG, "QUERY_DEV_CONFIG", 0x28, 2,
      mana_msg_dev_config },
    { MANA_QUERY_GF_STAT, "QUERY_GF_STAT", 0x30, 2, mana_msg_gf_stat },
    { MANA_CONFIG_VPORT_TX, "CONFIG_VPORT_TX", 0x30, 1, mana_msg_vport_tx },
    { MANA_CREATE_WQ_OBJ, "CREATE_WQ_OBJ", 0x58, 1, mana_msg_create_wq },
    { MANA_DESTROY_WQ_OBJ, "DESTROY_WQ_OBJ", 0x38, 1, mana_msg_destroy_wq },
    { MANA_FENCE_RQ, "FENCE_RQ", 0x30, 1, mana_msg_fence_rq },
    { MANA_CONFIG_VPORT_RX, "CONFIG_VPORT_RX", 0x78, 1, mana_msg_vport_rx },
    { MANA_QUERY_VPORT_CONFIG, "QUERY_VPORT_CONFIG", 0x2c, 1,
      mana_msg_vport_config },
    { MANA_QUERY_LINK_CONFIG, "QUERY_LINK_CONFIG", 0x30, 2,
      mana_msg_link_config },
    { MANA_SET_BW_CLAMP, "SET_BW_CLAMP", 0x38, 2, mana_msg_set_bw_clamp },
};

/* ------------------------------------------------------------------ */
/* Requests and responses                                              */

static void mana_hwc_after_resp(ManaCore *c)
{
    uint8_t data[60] = { 0 };
    ManaQueue *wq;

    if (c->hwc_fence_wq < 0) {
        return;
    }
    wq = &c->wqs[c->hwc_fence_wq];
    c->hwc_fence_wq = -1;
    if (!wq->valid || wq->is_sq) {
        return;
    }
    data[0] = CQE_RX_OBJECT_FENCE | (MANA_CQE_CLIENT << 6);
    trace_mana_fence(wq->id);
    mana_cq_post(c, &c->cqs[wq->cq], wq->id, false, data);
}

/* Deliver the pending HWC response into the oldest posted HWC RQ WQE. */
void mana_hwc_deliver(ManaCore *c)
{
    ManaQueue *rq;
    ManaWqe w;
    ManaSge sge;
    uint8_t data[60] = { 0 };
    uint32_t len;

    if (!c->hwc_active || !c->hwc_resp_pending || c->hwc_resp_hold) {
        return;
    }
    rq = &c->wqs[c->hwc_rq];
    if (rq->cons == rq->tail) {
        trace_mana_hwc_no_rqe();
        return;
    }
    if (!mana_wqe_read(c, rq, &w, &sge, 1)) {
        qemu_log_mask(LOG_GUEST_ERROR, "mana: bad HWC RQ WQE\n");
        rq->cons += w.size;
        return;
    }
    rq->cons += w.size;
    len = MIN(c->hwc_resp_len, sge.size);
    c->hwc_resp_pending = false;
    if (!mana_dma(c, sge.addr, c->hwc_resp, len, true)) {
        /* The response is lost, as when the device cannot write it. */
        c->hwc_fence_wq = -1;
        return;
    }
    stl_le_p(data + 12, w.offset);
    stl_le_p(data + 24, len);
    mana_cq_post(c, &c->cqs[c->hwc_cq], rq->id, false, data);
    mana_hwc_after_resp(c);
}

void mana_hwc_timer_cb(void *opaque)
{
    ManaCore *c = opaque;

    if (!mana_guard_enter(c)) {
        timer_mod(c->hwc_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + 1);
        return;
    }
    c->hwc_resp_hold = false;
    mana_hwc_deliver(c);
    mana_guard_exit(c);
}

static void mana_hwc_request(ManaCore *c, const uint8_t *req, uint32_t len)
{
    const ManaMsgDesc *d = NULL;
    uint32_t code, status, resp_len;
    int64_t delay;
    uint16_t ver;
    bool drop;
    ManaMsg m;
    size_t i;

    if (len < 0x28) {
        qemu_log_mask(LOG_GUEST_ERROR, "mana: short HWC request (%u)\n", len);
        return;
    }
    code = ldl_le_p(req + 0x04);
    resp_len = ldl_le_p(req + 0x1c);
    resp_len = MAX(MIN(resp_len, MANA_HWC_MSG_SIZE), 32);
    ver = lduw_le_p(req + 0x18);

    memset(c->hwc_resp, 0, sizeof(c->hwc_resp));
    m.req = req;
    m.req_len = len;
    m.resp = c->hwc_resp;
    m.resp_len = resp_len;
    m.dev_id = ldl_le_p(req + 0x20);
    c->gf.hwc_requests++;

    for (i = 0; i < ARRAY_SIZE(mana_msgs); i++) {
        if (mana_msgs[i].code == code) {
            d = &mana_msgs[i];
            break;
        }
    }
    c->hwc_fence_wq = -1;

    /*
     * Fault injection: the request fails with the chosen status, or gets no
     * response at all; either way it is not executed, as a device that
     * rejects or loses a request does not act on it.
     */
    if (mana_fault_hwc(c, code, &drop, &status)) {
        if (drop) {
            c->hwc_resp_pending = false;
            mana_hwc_after_resp(c);
            return;
        }
        ver = MAX(MIN(ver, d ? d->max_ver : 1), 1);
    } else if (!d) {
        status = GDMA_STATUS_CMD_UNSUPPORTED;
        c->gf.hwc_unsupported++;
        ver = MAX(ver, 1);
    } else if (len < d->req_len) {
        status = GDMA_STATUS_INVALID;
        ver = MAX(MIN(ver, d->max_ver), 1);
    } else {
        status = d->fn ? d->fn(c, &m) : GDMA_STATUS_OK;
        ver = MAX(MIN(ver, d->max_ver), 1);
    }

    stl_le_p(c->hwc_resp + 0x00, 0);
    stl_le_p(c->hwc_resp + 0x04, code);
    stw_le_p(c->hwc_resp + 0x08, ver);
    stw_le_p(c->hwc_resp + 0x0a, lduw_le_p(req + 0x0a));
    stl_le_p(c->hwc_resp + 0x0c, resp_len);
    stl_le_p(c->hwc_resp + 0x10, m.dev_id);
    stl_le_p(c->hwc_resp + 0x14, ldl_le_p(req + 0x24));
    stl_le_p(c->hwc_resp + 0x18, status);
    c->hwc_resp_len = resp_len;
    c->hwc_resp_pending = true;
    trace_mana_hwc_request(code, d ? d->name : "unknown", len, resp_len,
                           status);

    delay = mana_fault_delay_ns(c);
    if (delay) {
        c->hwc_resp_hold = true;
        timer_mod(c->hwc_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + delay);
        return;
    }
    mana_hwc_deliver(c);
}

void mana_hwc_sq_process(ManaCore *c, ManaQueue *sq)
{
    uint8_t *req = c->hwc_req;
    ManaWqe w;
    ManaSge sge;

    while (sq->valid && sq->cons != sq->tail) {
        if (!mana_wqe_read(c, sq, &w, &sge, 1)) {
            qemu_log_mask(LOG_GUEST_ERROR, "mana: bad HWC SQ WQE\n");
            sq->cons += w.size;
            continue;
        }
        sq->cons += w.size;
        sge.size = MIN(sge.size, MANA_HWC_MSG_SIZE);
        if (!mana_dma(c, sge.addr, req, sge.size, false)) {
            continue;   /* the request never reached the device */
        }
        mana_hwc_request(c, req, sge.size);
    }
}
