/*
 * QTest for the MANA device model (hw/net/mana*.c)
 *
 * The test is a small driver written against the device protocol: it
 * brings the hardware channel (HWC) up through the shared memory channel,
 * sends HWC messages, creates queues and moves frames between two MANA
 * functions on one hub.  Most cases hand the device a value the guest
 * controls and check that the device refuses it and stays usable.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/cutils.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qstring.h"
#include "libqos/pci.h"
#include "libqos/pci-pc.h"
#include "libqos/generic-pcihost.h"
#include "hw/pci/pci_regs.h"
#include "hw/net/mana_regs.h"

#define PAGE                    4096        /* DMA region page size */
#define IP_PROTO_UDP_NUM        17
#define DB(off)                 (MANA_DB_ZONE_OFFSET + (off))

/* One machine with its guest memory allocator. */
typedef struct Machine {
    QTestState *qts;
    QPCIBus *bus;
    QGenericPCIBus gbus;
    uint64_t mem_next, mem_end;
} Machine;

/* One MANA function, seen from its driver. */
typedef struct Mana {
    Machine *mc;
    QPCIDevice *dev;
    QPCIBar bar0;
    uint64_t bar0_addr;
    uint64_t eq, cq, rq, sq, req, resp;
    uint32_t eq_id, cq_id, rq_id, sq_id;
    uint32_t sq_tail, rq_tail;
    uint16_t msg_id;
    uint8_t r[PAGE];        /* last HWC response */
} Mana;

/* A data path work queue with its completion queue. */
typedef struct Wq {
    uint64_t mem, cq_mem;
    uint32_t id, cq_id, size, cq_size, tail, cq_seen;
    uint64_t obj;
} Wq;

static bool is_arm(void)
{
    return !strcmp(qtest_get_arch(), "aarch64");
}

static Machine *machine_new(const char *devices)
{
    Machine *mc = g_new0(Machine, 1);

    if (is_arm()) {
        mc->qts = qtest_initf("-M virt -cpu max -m 256 %s", devices);
        qpci_init_generic(&mc->gbus, mc->qts, NULL, false);
        mc->bus = &mc->gbus.bus;
        mc->mem_next = 0x41000000;
        mc->mem_end = 0x48000000;
    } else {
        mc->qts = qtest_initf("-M q35 -nodefaults -m 256 -L /usr/share/seabios "
                              "-L /usr/share/qemu %s", devices);
        mc->bus = qpci_new_pc(mc->qts, NULL);
        mc->mem_next = 0x01000000;
        mc->mem_end = 0x08000000;
    }
    return mc;
}

static void machine_free(Machine *mc)
{
    if (!is_arm()) {
        qpci_free_pc(mc->bus);
    }
    qtest_quit(mc->qts);
    g_free(mc);
}

/* Zeroed, page aligned guest memory. */
static uint64_t gmem(Machine *mc, size_t size)
{
    uint64_t a = mc->mem_next;

    size = ROUND_UP(size, PAGE);
    g_assert_cmphex(a + size, <=, mc->mem_end);
    mc->mem_next += size;
    qtest_memset(mc->qts, a, 0, size);
    return a;
}

static uint32_t rd32(Machine *mc, uint64_t a)
{
    return qtest_readl(mc->qts, a);
}

static uint32_t r32(Mana *m, uint64_t off)
{
    return qpci_io_readl(m->dev, m->bar0, off);
}

static void w32(Mana *m, uint64_t off, uint32_t v)
{
    qpci_io_writel(m->dev, m->bar0, off, v);
}

static void w64(Mana *m, uint64_t off, uint64_t v)
{
    qpci_io_writeq(m->dev, m->bar0, off, v);
}

static bool alive(Machine *mc)
{
    QDict *r = qtest_qmp(mc->qts, "{ 'execute': 'query-status' }");
    bool ok = r && qdict_haskey(r, "return");

    qobject_unref(r);
    return ok;
}

/* The MANA at @devfn (bus number in bits 8-15): BAR0 and MSI-X on. */
static Mana *mana_open_at(Machine *mc, int devfn)
{
    Mana *m = g_new0(Mana, 1);

    m->mc = mc;
    m->dev = qpci_device_find(mc->bus, devfn);
    g_assert(m->dev);
    g_assert_cmphex(qpci_config_readw(m->dev, PCI_VENDOR_ID), ==, 0x1414);
    g_assert_cmphex(qpci_config_readw(m->dev, PCI_DEVICE_ID), ==, 0x00ba);
    qpci_device_enable(m->dev);
    m->bar0 = qpci_iomap(m->dev, 0, NULL);
    m->bar0_addr = m->bar0.addr;
    qpci_msix_enable(m->dev);
    return m;
}

static Mana *mana_open(Machine *mc, int slot)
{
    return mana_open_at(mc, QPCI_DEVFN(slot, 0));
}

static void mana_close(Mana *m)
{
    g_free(m->dev);
    g_free(m);
}

/* SMC ESTABLISH_HWC with the given MSI-X index; returns SMC dword 7. */
static uint32_t smc_establish(Mana *m, uint16_t msix)
{
    uint64_t pfn[4] = { m->eq >> 12, m->cq >> 12, m->rq >> 12, m->sq >> 12 };
    uint8_t b[32] = { 0 };
    uint16_t hi = 0;
    int i, k;

    for (i = 0; i < 4; i++) {
        for (k = 0; k < 6; k++) {
            b[6 * i + k] = pfn[i] >> (8 * k);
        }
        hi |= ((pfn[i] >> 48) & 0xf) << (4 * i);
    }
    stw_le_p(b + 24, hi);
    stw_le_p(b + 26, msix);
    for (i = 0; i < 7; i++) {
        w32(m, MANA_SMC_OFFSET + 4 * i, ldl_le_p(b + 4 * i));
    }
    w32(m, MANA_SMC_OFFSET + 28, 1);
    return r32(m, MANA_SMC_OFFSET + 28);
}

static uint32_t eqe_info(Mana *m, uint64_t eq, uint32_t slot)
{
    return rd32(m->mc, eq + 16 * slot + 12);
}

static void hwc_alloc(Mana *m)
{
    m->eq = gmem(m->mc, PAGE);
    m->cq = gmem(m->mc, PAGE);
    m->rq = gmem(m->mc, PAGE);
    m->sq = gmem(m->mc, PAGE);
    m->req = gmem(m->mc, PAGE);
    m->resp = gmem(m->mc, PAGE);
}

static void hwc_up(Mana *m)
{
    uint32_t i, info, d0;

    if (!m->eq) {
        g_assert_cmphex(r32(m, 0x08), ==, 0x1000);     /* doorbell zone */
        g_assert_cmphex(r32(m, 0x18), ==, MANA_SMC_OFFSET);
        /* 0 at reset */
        g_assert_cmphex(r32(m, MANA_SMC_OFFSET + 28), ==, 0);
        hwc_alloc(m);
    }
    g_assert_cmphex(smc_establish(m, 0), ==, 0x81);

    /* 11 init events, owner 1, then INIT_DONE; MSI-X vector 0 fired. */
    for (i = 0; i < 11; i++) {
        info = eqe_info(m, m->eq, i);
        d0 = rd32(m->mc, m->eq + 16 * i);
        g_assert_cmpuint(info >> 29, ==, 1);
        if ((info & 0xff) == EQE_HWC_INIT_EQ_ID_DB) {
            m->eq_id = d0 & 0xffff;
        } else if ((info & 0xff) == EQE_HWC_INIT_DATA) {
            switch (d0 >> 24) {
            case 1:
                m->cq_id = d0 & 0xffffff;
                break;
            case 2:
                m->rq_id = d0 & 0xffffff;
                break;
            case 3:
                m->sq_id = d0 & 0xffffff;
                break;
            }
        }
    }
    g_assert_cmpuint(eqe_info(m, m->eq, 10) & 0xff, ==, EQE_HWC_INIT_DONE);
    g_assert(qpci_msix_pending(m->dev, 0));
}

/* A WQE with inline OOB of @oob bytes and one SGE. */
static void put_wqe(Machine *mc, uint64_t ring, uint32_t size, uint32_t off,
                    uint32_t hdr1, const uint8_t *oob, uint32_t oob_len,
                    uint64_t addr, uint32_t len)
{
    uint8_t w[64] = { 0 };
    uint32_t n = 8 + oob_len + 16, i;

    stl_le_p(w + 4, hdr1);
    if (oob_len) {
        memcpy(w + 8, oob, oob_len);
    }
    stq_le_p(w + 8 + oob_len, addr);
    stl_le_p(w + 8 + oob_len + 12, len);
    for (i = 0; i < ROUND_UP(n, 32); i += 4) {
        qtest_writel(mc->qts, ring + ((off + i) & (size - 1)),
                     ldl_le_p(w + i));
    }
}

static void req_hdr(Mana *m, uint8_t *b, uint32_t code, uint32_t len)
{
    memset(b, 0, len);
    stl_le_p(b + 0x00, 1);
    stl_le_p(b + 0x04, code);
    stw_le_p(b + 0x08, 1);
    stw_le_p(b + 0x0a, ++m->msg_id);
    stl_le_p(b + 0x0c, len);
    stl_le_p(b + 0x14, code);
    stw_le_p(b + 0x18, 2);
    stl_le_p(b + 0x1c, 512);
}

/* Post an RQ buffer, send @len bytes of request; returns the status. */
static uint32_t hwc_send_nowait(Mana *m, const uint8_t *req, uint32_t len)
{
    Machine *mc = m->mc;
    uint8_t oob[8] = { 0 };

    qtest_memset(mc->qts, m->resp, 0xee, PAGE);
    put_wqe(mc, m->rq, PAGE, m->rq_tail, 1 | (2 << 8), oob, 8, m->resp, PAGE);
    m->rq_tail += 32;
    w64(m, DB(MANA_DB_RQ), m->rq_id | ((uint64_t)m->rq_tail << 32));
    qtest_memwrite(mc->qts, m->req, req, len);
    put_wqe(mc, m->sq, PAGE, m->sq_tail, 1 | (2 << 8), oob, 8, m->req, len);
    m->sq_tail += 32;
    w64(m, DB(MANA_DB_SQ), m->sq_id | ((uint64_t)m->sq_tail << 32));
    qtest_memread(mc->qts, m->resp, m->r, sizeof(m->r));
    return ldl_le_p(m->r + 0x18);
}

static uint32_t hwc_send(Mana *m, const uint8_t *req, uint32_t len)
{
    uint32_t status = hwc_send_nowait(m, req, len);

    /* the response echoes the request's code and message id */
    g_assert_cmphex(ldl_le_p(m->r + 0x04), ==, ldl_le_p(req + 0x04));
    g_assert_cmphex(lduw_le_p(m->r + 0x0a), ==, m->msg_id);
    return status;
}

/* The device answers a simple request: the HWC still works. */
static void hwc_ping(Mana *m)
{
    uint8_t b[0x30];

    req_hdr(m, b, GDMA_QUERY_HWC_TIMEOUT, sizeof(b));
    stl_le_p(b + 0x28, 1234);
    g_assert_cmphex(hwc_send(m, b, sizeof(b)), ==, 0);
    g_assert_cmpuint(ldl_le_p(m->r + 0x20), ==, 1234);
}

static uint32_t create_region_pages(Mana *m, const uint64_t *pages,
                                    uint32_t n, uint64_t length,
                                    uint64_t *handle)
{
    uint32_t len = 0x40 + 8 * n;
    g_autofree uint8_t *b = g_malloc0(MAX(len, 0x48));
    uint32_t i, st;

    req_hdr(m, b, GDMA_CREATE_DMA_REGION, MAX(len, 0x48));
    stq_le_p(b + 0x28, length);
    stl_le_p(b + 0x38, n);
    stl_le_p(b + 0x3c, n);
    for (i = 0; i < n; i++) {
        stq_le_p(b + 0x40 + 8 * i, pages[i]);
    }
    st = hwc_send(m, b, MIN(MAX(len, 0x48), PAGE));
    if (handle) {
        *handle = st ? 0 : ldq_le_p(m->r + 0x20);
    }
    return st;
}

/* A region over fresh guest memory; fails the test if refused. */
static uint64_t new_region(Mana *m, uint32_t size, uint64_t *mem)
{
    uint32_t n = size / PAGE, i;
    g_autofree uint64_t *pages = g_new(uint64_t, n);
    uint64_t base = gmem(m->mc, size), h;

    for (i = 0; i < n; i++) {
        pages[i] = base + i * PAGE;
    }
    g_assert_cmphex(create_region_pages(m, pages, n, size, &h), ==, 0);
    if (mem) {
        *mem = base;
    }
    return h;
}

static uint32_t create_eq(Mana *m, uint64_t region, uint32_t size,
                          uint32_t msix, uint32_t *id)
{
    uint8_t b[0x50];
    uint32_t st;

    req_hdr(m, b, GDMA_CREATE_QUEUE, sizeof(b));
    stl_le_p(b + 0x28, 4);
    stq_le_p(b + 0x38, region);
    stl_le_p(b + 0x44, size);
    stl_le_p(b + 0x4c, msix);
    st = hwc_send(m, b, sizeof(b));
    if (id) {
        *id = ldl_le_p(m->r + 0x20);
    }
    return st;
}

static uint32_t create_wq_raw(Mana *m, uint32_t type, uint64_t wr,
                              uint64_t cr, uint32_t wq_size,
                              uint32_t cq_size, uint32_t parent, Wq *wq)
{
    uint8_t b[0x58];
    uint32_t st;

    req_hdr(m, b, MANA_CREATE_WQ_OBJ, sizeof(b));
    stq_le_p(b + 0x28, MANA_VPORT_HANDLE);
    stl_le_p(b + 0x30, type);
    stq_le_p(b + 0x38, wr);
    stq_le_p(b + 0x40, cr);
    stl_le_p(b + 0x48, wq_size);
    stl_le_p(b + 0x4c, cq_size);
    stl_le_p(b + 0x54, parent);
    st = hwc_send(m, b, sizeof(b));
    if (!st && wq) {
        wq->id = ldl_le_p(m->r + 0x20);
        wq->cq_id = ldl_le_p(m->r + 0x24);
        wq->obj = ldq_le_p(m->r + 0x28);
        wq->size = wq_size;
        wq->cq_size = cq_size;
    }
    return st;
}

/* CONFIG_VPORT_TX, as the driver sends it before creating its SQs */
static uint32_t vport_tx(Mana *m)
{
    uint8_t b[0x30];

    req_hdr(m, b, MANA_CONFIG_VPORT_TX, sizeof(b));
    stq_le_p(b + 0x28, MANA_VPORT_HANDLE);
    return hwc_send(m, b, sizeof(b));
}

/*
 * An SQ or RQ of 4 KiB with a 4 KiB CQ on EQ @parent; must succeed.  For
 * an SQ the vport is configured for TX first, as the driver does.
 */
/* A WQ and its CQ of @size bytes each, without the vPort; must succeed. */
static void new_wq(Mana *m, uint32_t type, uint32_t parent, uint32_t size,
                   Wq *wq)
{
    uint64_t wr, cr;

    memset(wq, 0, sizeof(*wq));
    wr = new_region(m, size, &wq->mem);
    cr = new_region(m, size, &wq->cq_mem);
    g_assert_cmphex(create_wq_raw(m, type, wr, cr, size, size, parent, wq),
                    ==, 0);
}

static void create_wq(Mana *m, uint32_t type, uint32_t parent, Wq *wq)
{
    if (type == GDMA_WQ_SQ) {
        g_assert_cmphex(vport_tx(m), ==, 0);
    }
    new_wq(m, type, parent, PAGE, wq);
}

/* A MANA EQ of 4 KiB on @msix; must succeed. */
static uint32_t new_eq(Mana *m, uint32_t msix, uint64_t *mem)
{
    uint32_t id;

    g_assert_cmphex(create_eq(m, new_region(m, PAGE, mem), PAGE, msix, &id),
                    ==, 0);
    return id;
}

/* Send one frame of @len bytes at @addr on @sq with a short OOB @oob. */
static void tx_post_oob(Mana *m, Wq *sq, uint64_t addr, uint32_t len,
                        uint32_t hdr1_extra, const uint8_t *oob)
{
    put_wqe(m->mc, sq->mem, sq->size, sq->tail, 1 | (2 << 8) | hdr1_extra,
            oob, 8, addr, len);
    sq->tail += 32;
    w64(m, DB(MANA_DB_SQ), sq->id | ((uint64_t)sq->tail << 32));
}

/* Send one frame of @len bytes at @addr on @sq with WQE header bits. */
static void tx_post(Mana *m, Wq *sq, uint64_t addr, uint32_t len,
                    uint32_t hdr1_extra)
{
    static const uint8_t oob[8];

    tx_post_oob(m, sq, addr, len, hdr1_extra, oob);
}

static void rq_post(Mana *m, Wq *rq, uint64_t addr, uint32_t len)
{
    put_wqe(m->mc, rq->mem, rq->size, rq->tail, 1, NULL, 0, addr, len);
    rq->tail += 32;
    w64(m, DB(MANA_DB_RQ), rq->id | ((uint64_t)rq->tail << 32));
}

/* Next CQE of @wq's CQ: its type (-1 if none), data copied to @d. */
static int cqe_next(Mana *m, Wq *wq, uint8_t *d)
{
    uint8_t e[64];
    uint32_t entries = wq->cq_size / 64;
    uint32_t slot = wq->cq_seen % entries;
    uint32_t owner = (wq->cq_seen / entries + 1) & 7;

    qtest_memread(m->mc->qts, wq->cq_mem + 64 * slot, e, 64);
    if ((uint32_t)ldl_le_p(e + 60) >> 29 != owner) {
        return -1;
    }
    wq->cq_seen++;
    if (d) {
        memcpy(d, e, 64);
    }
    return e[0] & 0x3f;
}

static uint32_t vport_rx(Mana *m, bool rx, bool rss, const uint64_t *def,
                         const uint64_t *tab, uint32_t n)
{
    uint32_t len = 0x78 + 8 * n, i;
    g_autofree uint8_t *b = g_malloc0(len);

    req_hdr(m, b, MANA_CONFIG_VPORT_RX, len);
    stq_le_p(b + 0x28, MANA_VPORT_HANDLE);
    stw_le_p(b + 0x30, n);
    stw_le_p(b + 0x32, 0x78);
    stl_le_p(b + 0x34, rx);
    stl_le_p(b + 0x38, rss);
    if (def) {
        b[0x3c] = 1;
        stq_le_p(b + 0x40, *def);
    }
    if (tab) {
        b[0x3e] = 1;
        for (i = 0; i < n; i++) {
            stq_le_p(b + 0x78 + 8 * i, tab[i]);
        }
    }
    return hwc_send(m, b, len);
}

static void qom_set_u32(Machine *mc, const char *path, const char *prop,
                        uint32_t v, bool expect_ok)
{
    QDict *r = qtest_qmp(mc->qts, "{ 'execute': 'qom-set', 'arguments': "
                         "{ 'path': %s, 'property': %s, 'value': %u } }",
                         path, prop, v);

    g_assert(r);
    g_assert_cmpint(qdict_haskey(r, "return"), ==, expect_ok);
    qobject_unref(r);
}

static char *qom_get_str(Machine *mc, const char *path, const char *prop)
{
    QDict *r = qtest_qmp(mc->qts, "{ 'execute': 'qom-get', 'arguments': "
                         "{ 'path': %s, 'property': %s } }", path, prop);
    char *s;

    g_assert(r && qdict_haskey(r, "return"));
    s = g_strdup(qdict_get_str(r, "return"));
    qobject_unref(r);
    return s;
}

/* mana0's RX generator on or off (the host's side of the link) */
static void rxgen_set(Machine *mc, bool on)
{
    qtest_qmp_assert_success(mc->qts, "{ 'execute': 'qom-set', 'arguments': "
                             "{ 'path': '/machine/peripheral/mana0', "
                             "'property': 'rxgen', 'value': %i } }", on);
}

/* hx: a second hub port, so the hub takes frames instead of queueing them */
#define ONE_DEV "-netdev hubport,id=h0,hubid=0 -netdev hubport,id=hx,hubid=0 " \
    "-device mana,netdev=h0,id=mana0,addr=04.0,vectors=4," \
    "mac=52:54:00:4d:41:01"

static void setup(const char *extra, Machine **mc, Mana **m)
{
    g_autofree char *dev = g_strdup_printf(ONE_DEV "%s", extra ? extra : "");

    *mc = machine_new(dev);
    *m = mana_open(*mc, 4);
    hwc_up(*m);
}

static void teardown(Machine *mc, Mana *m)
{
    g_assert(alive(mc));
    mana_close(m);
    machine_free(mc);
}

/* ------------------------------------------------------------------ */
/* Functional cases                                                    */

static uint64_t stats_count(Machine *mc, int i, const char *head,
                            const char *key);

static void test_probe(void)
{
    Machine *mc;
    Mana *m;
    uint8_t b[0x40];
    uint32_t eq;
    uint64_t eq_mem, cqs, regions;
    Wq sq, rq;

    setup(NULL, &mc, &m);
    req_hdr(m, b, GDMA_QUERY_MAX_RESOURCES, 0x28);
    g_assert_cmphex(hwc_send(m, b, 0x28), ==, 0);
    g_assert_cmpuint(ldl_le_p(m->r + 0x24), ==, 16);        /* max_sq */
    g_assert_cmpuint(ldl_le_p(m->r + 0x44), ==, 4);         /* max_msix */

    /* EQ, test EQE on it, SQ and RQ, then tear them down. */
    eq = new_eq(m, 1, &eq_mem);
    req_hdr(m, b, GDMA_GENERATE_TEST_EQE, 0x2c);
    stl_le_p(b + 0x28, eq);
    g_assert_cmphex(hwc_send(m, b, 0x2c), ==, 0);
    g_assert_cmphex(eqe_info(m, eq_mem, 0), ==, EQE_TEST_EVENT | 1u << 29);
    g_assert(qpci_msix_pending(m->dev, 1));
    /*
     * The objects the stats count: a WQ object is the queue and its CQ; a
     * queue consumes the DMA region it is created on, a region no queue
     * took stays until destroyed.
     */
    cqs = stats_count(mc, 0, "objects", "cq");
    regions = stats_count(mc, 0, "objects", "regions");
    create_wq(m, GDMA_WQ_SQ, eq, &sq);
    create_wq(m, GDMA_WQ_RQ, eq, &rq);
    g_assert_cmpuint(stats_count(mc, 0, "objects", "cq"), ==, cqs + 2);
    g_assert_cmpuint(stats_count(mc, 0, "objects", "regions"), ==, regions);
    new_region(m, PAGE, NULL);
    g_assert_cmpuint(stats_count(mc, 0, "objects", "regions"), ==,
                     regions + 1);
    req_hdr(m, b, MANA_DESTROY_WQ_OBJ, 0x38);
    stq_le_p(b + 0x30, sq.obj);
    g_assert_cmphex(hwc_send(m, b, 0x38), ==, 0);
    g_assert_cmphex(hwc_send(m, b, 0x38), ==, 1);   /* gone */
    g_assert_cmpuint(stats_count(mc, 0, "objects", "cq"), ==, cqs + 1);
    req_hdr(m, b, GDMA_DISABLE_QUEUE, 0x30);
    stl_le_p(b + 0x28, 4);
    stl_le_p(b + 0x2c, eq);
    g_assert_cmphex(hwc_send(m, b, 0x30), ==, 0);
    teardown(mc, m);
}

/* A frame from one MANA function to another over a hub, both ways. */
static void test_tx_rx(void)
{
    Machine *mc = machine_new(
        "-netdev hubport,id=h0,hubid=0 -netdev hubport,id=h1,hubid=0 "
        "-device mana,netdev=h0,id=mana0,addr=04.0,vectors=4,"
        "mac=52:54:00:4d:41:01 "
        "-device mana,netdev=h1,id=mana1,addr=05.0,vectors=4,"
        "mac=52:54:00:4d:41:02");
    Mana *m[2] = { mana_open(mc, 4), mana_open(mc, 5) };
    Wq sq[2], rq[2];
    uint8_t frame[200], got[256], d[64];
    uint64_t fa = gmem(mc, PAGE), buf[2];
    int i, k;

    for (i = 0; i < 2; i++) {
        uint32_t eq;

        hwc_up(m[i]);
        eq = new_eq(m[i], 1, NULL);
        create_wq(m[i], GDMA_WQ_SQ, eq, &sq[i]);
        create_wq(m[i], GDMA_WQ_RQ, eq, &rq[i]);
        g_assert_cmphex(vport_rx(m[i], true, false, &rq[i].obj, NULL, 0),
                        ==, 0);
        buf[i] = gmem(mc, PAGE);
        rq_post(m[i], &rq[i], buf[i], 2048);
    }
    for (i = 0; i < 2; i++) {
        int o = !i;

        memset(frame, 0, sizeof(frame));
        memcpy(frame, "\x52\x54\x00\x4d\x41", 5);
        frame[5] = 1 + o;                           /* to the other one */
        frame[11] = 0x77;
        stw_be_p(frame + 12, 0x88b5);
        for (k = 14; k < sizeof(frame); k++) {
            frame[k] = k + i;
        }
        qtest_memwrite(mc->qts, fa, frame, sizeof(frame));
        tx_post(m[i], &sq[i], fa, sizeof(frame), 0);
        g_assert_cmpint(cqe_next(m[i], &sq[i], NULL), ==, CQE_TX_OKAY);
        g_assert_cmpint(cqe_next(m[o], &rq[o], d), ==, CQE_RX_OKAY);
        g_assert_cmpuint(ldl_le_p(d + 8) & 0xffff, ==, sizeof(frame));
        qtest_memread(mc->qts, buf[o], got, sizeof(frame));
        g_assert(!memcmp(got, frame, sizeof(frame)));
        g_assert_cmpint(cqe_next(m[i], &rq[i], NULL), ==, -1);
    }
    g_assert(alive(mc));
    mana_close(m[0]);
    mana_close(m[1]);
    machine_free(mc);
}

/* ------------------------------------------------------------------ */
/* The reported crash and the re-entrancy rules                        */

/*
 * The crash of issue 17: a DMA region whose page sits in the device's own
 * BAR0 (at SMC dword 7 - 0 of an EQE), an EQ on it, and a clamp-paced TX
 * completion: its EQE's first dword (the CQ id, 1 = ESTABLISH) lands on
 * the SMC doorbell from the TX timer and the ESTABLISH frees every queue
 * in the middle of the EQE post.  The device must refuse the region (not
 * page aligned) and in any case must never act on its own DMA.
 */
static void test_crash_eq_in_bar(void)
{
    Machine *mc;
    Mana *m;
    uint64_t page, h, fa;
    uint32_t eq, st;
    uint8_t frame[64] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    Wq sq;

    setup(NULL, &mc, &m);
    page = m->bar0_addr + MANA_SMC_OFFSET + 28;
    st = create_region_pages(m, &page, 1, PAGE, &h);
    if (st == 0) {
        /* the model took it: go on with the sequence that crashed */
        g_assert_cmphex(create_eq(m, h, PAGE, 1, &eq), ==, 0);
        create_wq(m, GDMA_WQ_SQ, eq, &sq);
        g_assert_cmpuint(sq.cq_id & 7, ==, 1);
        qom_set_u32(mc, "/machine/peripheral/mana0", "clamp-mbps", 100, true);
        fa = gmem(mc, PAGE);
        qtest_memwrite(mc->qts, fa, frame, sizeof(frame));
        tx_post(m, &sq, fa, sizeof(frame), 0);
        qtest_clock_step(mc->qts, 10 * 1000 * 1000);
    }
    g_assert_cmphex(st, !=, 0);
    hwc_ping(m);
    teardown(mc, m);
}

/*
 * The same with a page aligned region at the start of BAR0: the 17th EQE
 * (posted from the TX pacing timer) would land on SMC dwords 0-3.  A DMA
 * into the device's own BAR must do nothing.
 */
static void test_own_bar_dma(void)
{
    Machine *mc;
    Mana *m;
    uint64_t page, h, fa;
    uint32_t eq, smc0, i;
    uint8_t frame[64] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    uint8_t b[0x2c];
    Wq sq;

    setup(NULL, &mc, &m);
    smc0 = r32(m, MANA_SMC_OFFSET);
    page = m->bar0_addr;
    g_assert_cmphex(create_region_pages(m, &page, 1, PAGE, &h), ==, 0);
    g_assert_cmphex(create_eq(m, h, PAGE, 1, &eq), ==, 0);
    for (i = 0; i < 16; i++) {
        req_hdr(m, b, GDMA_GENERATE_TEST_EQE, sizeof(b));
        stl_le_p(b + 0x28, eq);
        g_assert_cmphex(hwc_send(m, b, sizeof(b)), ==, 0);
    }
    create_wq(m, GDMA_WQ_SQ, eq, &sq);
    qom_set_u32(mc, "/machine/peripheral/mana0", "clamp-mbps", 100, true);
    fa = gmem(mc, PAGE);
    qtest_memwrite(mc->qts, fa, frame, sizeof(frame));
    tx_post(m, &sq, fa, sizeof(frame), 0);
    qtest_clock_step(mc->qts, 10 * 1000 * 1000);
    g_assert_cmpint(cqe_next(m, &sq, NULL), ==, CQE_TX_OKAY);
    g_assert_cmphex(r32(m, MANA_SMC_OFFSET), ==, smc0);
    hwc_ping(m);
    teardown(mc, m);
}

/* ------------------------------------------------------------------ */
/* Refused values                                                      */

static void test_bad_regions(void)
{
    Machine *mc;
    Mana *m;
    uint64_t base, pages[2];
    g_autofree uint64_t *many = g_new0(uint64_t, 513);
    uint32_t i;

    setup(NULL, &mc, &m);
    base = gmem(mc, 2 * PAGE);
    pages[0] = base + 0x800;                        /* not page aligned */
    g_assert_cmphex(create_region_pages(m, pages, 1, PAGE, NULL), !=, 0);
    pages[0] = base;
    pages[1] = base + PAGE;
    /* the length must be the pages given, no more, no less */
    g_assert_cmphex(create_region_pages(m, pages, 2, PAGE, NULL), !=, 0);
    g_assert_cmphex(create_region_pages(m, pages, 1, 100, NULL), !=, 0);
    g_assert_cmphex(create_region_pages(m, pages, 1, 0, NULL), !=, 0);
    g_assert_cmphex(create_region_pages(m, pages, 0, 0, NULL), !=, 0);
    for (i = 0; i < 513; i++) {
        many[i] = base;
    }
    g_assert_cmphex(create_region_pages(m, many, 513, 513ull * PAGE, NULL),
                    !=, 0);
    g_assert_cmphex(create_region_pages(m, pages, 2, 2 * PAGE, NULL), ==, 0);
    hwc_ping(m);
    teardown(mc, m);
}

static void test_bad_queues(void)
{
    Machine *mc;
    Mana *m;
    uint64_t r4k, r16k, w, c;
    uint32_t eq;
    Wq sq, q2;

    setup(",queues=2", &mc, &m);
    r4k = new_region(m, PAGE, NULL);
    r16k = new_region(m, 4 * PAGE, NULL);
    g_assert_cmphex(create_eq(m, r4k, 2048, 1, NULL), !=, 0);   /* < 4K */
    g_assert_cmphex(create_eq(m, r16k, 3 * PAGE, 1, NULL), !=, 0); /* 2^n */
    g_assert_cmphex(create_eq(m, r4k, 2 * PAGE, 1, NULL), !=, 0); /* fits */
    g_assert_cmphex(create_eq(m, r4k, PAGE, 4, NULL), !=, 0);   /* vector */
    g_assert_cmphex(create_eq(m, r4k, PAGE, 0xffff, NULL), !=, 0);
    g_assert_cmphex(create_eq(m, r4k, PAGE, 3, &eq), ==, 0);

    /* a CQ's parent EQ is a MANA EQ, not the HWC's */
    w = new_region(m, PAGE, NULL);
    c = new_region(m, PAGE, NULL);
    g_assert_cmphex(create_wq_raw(m, GDMA_WQ_SQ, w, c, PAGE, PAGE, m->eq_id,
                                  NULL),
                    !=, 0);
    g_assert_cmphex(create_wq_raw(m, GDMA_WQ_SQ, w, c, 2048, PAGE, eq, NULL),
                    !=, 0);
    g_assert_cmphex(create_wq_raw(m, GDMA_WQ_SQ, w, c, PAGE, 1024, eq, NULL),
                    !=, 0);
    g_assert_cmphex(create_wq_raw(m, GDMA_WQ_SQ, w, c, PAGE, PAGE, 99, NULL),
                    !=, 0);
    /* queues=2: a third SQ is over the advertised max_sq */
    create_wq(m, GDMA_WQ_SQ, eq, &sq);
    create_wq(m, GDMA_WQ_SQ, eq, &q2);
    g_assert_cmphex(create_wq_raw(m, GDMA_WQ_SQ, w, c, PAGE, PAGE, eq, NULL),
                    !=, 0);
    g_assert_cmphex(create_wq_raw(m, GDMA_WQ_RQ, w, c, PAGE, PAGE, eq, NULL),
                    ==, 0);
    hwc_ping(m);
    teardown(mc, m);
}

static void test_bad_establish(void)
{
    Machine *mc = machine_new(ONE_DEV);
    Mana *m = mana_open(mc, 4);

    hwc_alloc(m);
    /* MSI-X index 4 of 4 vectors: refused with a status in the SMC */
    g_assert_cmphex(smc_establish(m, 4), ==, 0x181);
    g_assert_cmphex(eqe_info(m, m->eq, 0), ==, 0);
    hwc_up(m);
    hwc_ping(m);
    teardown(mc, m);
}

static void test_bad_rss(void)
{
    Machine *mc;
    Mana *m;
    uint64_t tab[8], bogus = 0x1234567;
    uint32_t eq, i;
    Wq sq, rq;

    setup(",indirection-entries=4", &mc, &m);
    eq = new_eq(m, 1, NULL);
    create_wq(m, GDMA_WQ_SQ, eq, &sq);
    create_wq(m, GDMA_WQ_RQ, eq, &rq);
    for (i = 0; i < 8; i++) {
        tab[i] = rq.obj;
    }
    g_assert_cmphex(vport_rx(m, true, true, &rq.obj, tab, 8), !=, 0);
    g_assert_cmphex(vport_rx(m, true, true, &rq.obj, tab, 3), !=, 0);
    g_assert_cmphex(vport_rx(m, true, true, &rq.obj, tab, 0), !=, 0);
    tab[2] = sq.obj;                                /* not an RQ */
    g_assert_cmphex(vport_rx(m, true, true, &rq.obj, tab, 4), !=, 0);
    tab[2] = rq.obj;
    g_assert_cmphex(vport_rx(m, true, true, &bogus, tab, 4), !=, 0);
    g_assert_cmphex(vport_rx(m, true, true, &sq.obj, tab, 4), !=, 0);
    g_assert_cmphex(vport_rx(m, true, true, &rq.obj, tab, 4), ==, 0);
    hwc_ping(m);
    teardown(mc, m);
}

static void test_bad_tx(void)
{
    Machine *mc;
    Mana *m;
    uint64_t fa;
    uint32_t eq, k;
    g_autofree uint8_t *f = g_malloc0(9100);
    Wq sq;

    setup(",max-frame=1514", &mc, &m);
    eq = new_eq(m, 1, NULL);
    create_wq(m, GDMA_WQ_SQ, eq, &sq);
    fa = gmem(mc, 3 * PAGE);

    /* a frame over the MTU (1514 + VLAN) is dropped with an MTU CQE */
    memset(f, 0xff, 6);
    stw_be_p(f + 12, 0x88b5);
    qtest_memwrite(mc->qts, fa, f, 9100);
    tx_post(m, &sq, fa, 1600, 0);
    g_assert_cmpint(cqe_next(m, &sq, NULL), ==, CQE_TX_MTU_DROP);
    tx_post(m, &sq, fa, 1514, 0);
    g_assert_cmpint(cqe_next(m, &sq, NULL), ==, CQE_TX_OKAY);

    /* TSO with an MSS of 16: refused (the minimum is 64) */
    memset(f, 0, 9100);
    memset(f, 0xff, 6);
    stw_be_p(f + 12, 0x0800);
    f[14] = 0x45;
    f[23] = 6;                                      /* TCP */
    f[14 + 20 + 12] = 5 << 4;
    for (k = 54; k < 1000; k++) {
        f[k] = k;
    }
    qtest_memwrite(mc->qts, fa, f, 1000);
    tx_post(m, &sq, fa, 1000, 1u << 11 | 16u << 16);
    g_assert_cmpint(cqe_next(m, &sq, NULL), ==, CQE_TX_INVALID_OOB);
    tx_post(m, &sq, fa, 1000, 1u << 11 | 536u << 16);
    g_assert_cmpint(cqe_next(m, &sq, NULL), ==, CQE_TX_OKAY);
    hwc_ping(m);
    teardown(mc, m);
}

/* A DMA that fails (own BAR, nothing mapped) gives an error completion. */
static void test_bad_dma(void)
{
    Machine *mc;
    Mana *m;
    uint64_t fa;
    uint32_t eq;
    uint8_t frame[64] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    g_autofree char *st = NULL;
    Wq sq;

    setup(NULL, &mc, &m);
    eq = new_eq(m, 1, NULL);
    create_wq(m, GDMA_WQ_SQ, eq, &sq);
    tx_post(m, &sq, m->bar0_addr, 64, 0);                 /* own BAR0 */
    g_assert_cmpint(cqe_next(m, &sq, NULL), ==, CQE_TX_INVALID_OOB);
    tx_post(m, &sq, 0x7f00000000ull, 64, 0);              /* nothing there */
    g_assert_cmpint(cqe_next(m, &sq, NULL), ==, CQE_TX_INVALID_OOB);
    fa = gmem(mc, PAGE);
    qtest_memwrite(mc->qts, fa, frame, sizeof(frame));
    tx_post(m, &sq, fa, sizeof(frame), 0);
    g_assert_cmpint(cqe_next(m, &sq, NULL), ==, CQE_TX_OKAY);
    st = qom_get_str(mc, "/machine/peripheral/mana0", "stats");
    g_assert(strstr(st, "dma: errors 2\n"));
    hwc_ping(m);
    teardown(mc, m);
}

static void test_bad_props(void)
{
    Machine *mc;
    Mana *m;
    const char *p = "/machine/peripheral/mana0";
    QDict *r;

    setup(NULL, &mc, &m);
    qom_set_u32(mc, p, "fault-delay-ms", 120001, false);
    qom_set_u32(mc, p, "fault-delay-ms", 120000, true);
    qom_set_u32(mc, p, "fault-delay-ms", 0, true);
    qom_set_u32(mc, p, "rxgen-size", 9217, false);
    qom_set_u32(mc, p, "rxgen-size", 63, false);
    qom_set_u32(mc, p, "rxgen-flows", 0, false);
    qom_set_u32(mc, p, "clamp-mbps", 100001, false);
    r = qtest_qmp(mc->qts, "{ 'execute': 'device_add', 'arguments': "
                  "{ 'driver': 'mana', 'id': 'm2', 'addr': '06.0', "
                  "'max-speed-mbps': 2000000 } }");
    g_assert(r && qdict_haskey(r, "error"));
    qobject_unref(r);
    hwc_ping(m);
    teardown(mc, m);
}

/* fault-delay-ms beyond 2^32 ns (4.3 s) delays by the full amount. */
static void test_long_delay(void)
{
    Machine *mc;
    Mana *m;
    uint8_t b[0x30];

    setup(NULL, &mc, &m);
    qom_set_u32(mc, "/machine/peripheral/mana0", "fault-delay-ms", 5000,
                true);
    req_hdr(m, b, GDMA_QUERY_HWC_TIMEOUT, sizeof(b));
    hwc_send_nowait(m, b, sizeof(b));
    qtest_clock_step(mc->qts, 4900 * 1000 * 1000ll);
    qtest_memread(mc->qts, m->resp, m->r, 0x20);
    /* not answered yet */
    g_assert_cmphex((uint32_t)ldl_le_p(m->r + 4), ==, 0xeeeeeeee);
    qtest_clock_step(mc->qts, 200 * 1000 * 1000ll);
    qtest_memread(mc->qts, m->resp, m->r, 0x20);
    g_assert_cmphex(ldl_le_p(m->r + 4), ==, GDMA_QUERY_HWC_TIMEOUT);
    qom_set_u32(mc, "/machine/peripheral/mana0", "fault-delay-ms", 0, true);
    hwc_ping(m);
    teardown(mc, m);
}

/* Rate statistics over a window of exactly 2^32 ns: no division by 0. */
static void test_rate_window(void)
{
    Machine *mc;
    Mana *m;
    g_autofree char *s = NULL;

    setup(NULL, &mc, &m);
    /* (QEMU 10.2's clock_step refuses a 0 ns step: step 1 ns to read it) */
    qtest_clock_step(mc->qts, (1ll << 32) - qtest_clock_step(mc->qts, 1));
    s = qom_get_str(mc, "/machine/peripheral/mana0", "stats");
    g_assert(strstr(s, "tx-rate 0 bps"));
    teardown(mc, m);
}

/* ------------------------------------------------------------------ */
/* What a driver sees of the device                                    */

/* A PCI Express endpoint with MSI-X and no INTx pin. */
static void test_pcie(void)
{
    Machine *mc;
    Mana *m;
    uint8_t exp;

    setup(NULL, &mc, &m);
    g_assert_cmpuint(qpci_config_readb(m->dev, PCI_INTERRUPT_PIN), ==, 0);
    g_assert_cmpuint(qpci_find_capability(m->dev, PCI_CAP_ID_MSIX, 0), !=, 0);
    exp = qpci_find_capability(m->dev, PCI_CAP_ID_EXP, 0);
    g_assert_cmpuint(exp, !=, 0);
    /* on the root bus of q35 and virt: a root complex integrated endpoint */
    g_assert_cmphex((qpci_config_readw(m->dev, exp + PCI_EXP_FLAGS) &
                     PCI_EXP_FLAGS_TYPE) >> 4, ==, PCI_EXP_TYPE_RC_END);
    teardown(mc, m);
}

/* The QUERY_GF_STAT counter at @off */
static uint64_t gf_stat(Mana *m, uint32_t off)
{
    uint8_t b[0x30];

    req_hdr(m, b, MANA_QUERY_GF_STAT, sizeof(b));
    stl_le_p(b + 0x1c, 0x100);
    g_assert_cmphex(hwc_send(m, b, sizeof(b)), ==, 0);
    return ldq_le_p(m->r + off);
}

#define GF_TX_VPORT_DISABLED    0x78
#define GF_TX_VPORT_OFFSET      0x80
#define GF_TX_MTU               0xb0
#define GF_TX_INVAL_OOB         0xb8

/*
 * TX error completions carry the type the device reports for the error,
 * each counted where QUERY_GF_STAT reports it.
 */
static void test_tx_errors(void)
{
    Machine *mc;
    Mana *m;
    uint8_t f[2000] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, oob[8] = { 0 };
    uint64_t fa;
    uint32_t eq;
    Wq sq;

    setup(",max-frame=1514", &mc, &m);
    eq = new_eq(m, 1, NULL);
    new_wq(m, GDMA_WQ_SQ, eq, PAGE, &sq);
    fa = gmem(mc, PAGE);
    stw_be_p(f + 12, 0x88b5);
    qtest_memwrite(mc->qts, fa, f, sizeof(f));

    /* no CONFIG_VPORT_TX yet: the vport is disabled for TX */
    tx_post(m, &sq, fa, 100, 0);
    g_assert_cmpint(cqe_next(m, &sq, NULL), ==, CQE_TX_VPORT_DISABLED);
    g_assert_cmphex(vport_tx(m), ==, 0);
    /* a vport offset other than the one CONFIG_VPORT_TX gave (0) */
    oob[7] = 5;
    tx_post_oob(m, &sq, fa, 100, 0, oob);
    g_assert_cmpint(cqe_next(m, &sq, NULL), ==,
                    CQE_TX_VPORT_IDX_OUT_OF_RANGE);
    /* shorter than an Ethernet header */
    tx_post(m, &sq, fa, 10, 0);
    g_assert_cmpint(cqe_next(m, &sq, NULL), ==, CQE_TX_HDR_PROCESSING_ERROR);
    /* over the MTU */
    tx_post(m, &sq, fa, 1600, 0);
    g_assert_cmpint(cqe_next(m, &sq, NULL), ==, CQE_TX_MTU_DROP);
    tx_post(m, &sq, fa, 100, 0);
    g_assert_cmpint(cqe_next(m, &sq, NULL), ==, CQE_TX_OKAY);

    g_assert_cmpuint(gf_stat(m, GF_TX_VPORT_DISABLED), ==, 1);
    g_assert_cmpuint(gf_stat(m, GF_TX_VPORT_OFFSET), ==, 1);
    g_assert_cmpuint(gf_stat(m, GF_TX_MTU), ==, 1);
    g_assert_cmpuint(gf_stat(m, GF_TX_INVAL_OOB), ==, 0);
    teardown(mc, m);
}

/* Two MANA functions on one hub, each with an EQ, an SQ and @nrq RQs. */
typedef struct Pair {
    Machine *mc;
    Mana *m[2];
    Wq sq[2], rq[2][2];
    uint64_t fa;
} Pair;

static void pair_open(Pair *p, const char *opts0, const char *opts1, int nrq)
{
    g_autofree char *dev = g_strdup_printf(
        "-netdev hubport,id=h0,hubid=0 -netdev hubport,id=h1,hubid=0 "
        "-netdev hubport,id=hx,hubid=0 "
        "-device mana,netdev=h0,id=mana0,addr=04.0,vectors=4,"
        "mac=52:54:00:4d:41:01%s "
        "-device mana,netdev=h1,id=mana1,addr=05.0,vectors=4,"
        "mac=52:54:00:4d:41:02%s", opts0, opts1);
    int i, k;

    p->mc = machine_new(dev);
    for (i = 0; i < 2; i++) {
        uint32_t eq;

        p->m[i] = mana_open(p->mc, 4 + i);
        hwc_up(p->m[i]);
        eq = new_eq(p->m[i], 1, NULL);
        create_wq(p->m[i], GDMA_WQ_SQ, eq, &p->sq[i]);
        for (k = 0; k < nrq; k++) {
            create_wq(p->m[i], GDMA_WQ_RQ, eq, &p->rq[i][k]);
        }
        g_assert_cmphex(vport_rx(p->m[i], true, false, &p->rq[i][0].obj,
                                 NULL, 0), ==, 0);
    }
    p->fa = gmem(p->mc, 3 * PAGE);
}

static void pair_close(Pair *p)
{
    g_assert(alive(p->mc));
    mana_close(p->m[0]);
    mana_close(p->m[1]);
    machine_free(p->mc);
}

/* Send a @len byte frame from function 0 to function 1. */
static void pair_send(Pair *p, uint32_t len)
{
    g_autofree uint8_t *f = g_malloc0(len);

    memcpy(f, "\x52\x54\x00\x4d\x41\x02", 6);
    stw_be_p(f + 12, 0x88b5);
    qtest_memwrite(p->mc->qts, p->fa, f, len);
    tx_post(p->m[0], &p->sq[0], p->fa, len, 0);
    g_assert_cmpint(cqe_next(p->m[0], &p->sq[0], NULL), ==, CQE_TX_OKAY);
}

/* A stats line of mana<i>, e.g. "rx" or "rq 3", without its head */
static char *stats_line(Machine *mc, int i, const char *head)
{
    g_autofree char *path = g_strdup_printf("/machine/peripheral/mana%d", i);
    g_autofree char *st = qom_get_str(mc, path, "stats");
    g_autofree char *h = g_strdup_printf("\n%s: ", head);
    char *l = strstr(st, h), *e;

    g_assert(l);
    l += strlen(h);
    e = strchr(l, '\n');
    return g_strndup(l, e ? e - l : strlen(l));
}

/* Counter @key of the stats line @head of mana<i>, e.g. "rx" "mtu-drops" */
static uint64_t stats_count(Machine *mc, int i, const char *head,
                            const char *key)
{
    g_autofree char *l = stats_line(mc, i, head);
    g_autofree char *line = g_strconcat(" ", l, " ", NULL);
    g_autofree char *k = g_strdup_printf(" %s ", key);
    char *f = strstr(line, k);

    g_assert(f);
    return g_ascii_strtoull(f + strlen(k), NULL, 10);
}

/*
 * Wait until counter @key of mana0's stats line @head reaches @min: the
 * generator runs on its own thread, so what it did is seen some time after
 * the QMP command that started it. Its value then; a test fails after 10 s.
 */
static uint64_t stats_wait(Machine *mc, const char *head, const char *key,
                           uint64_t min)
{
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    uint64_t v;

    while ((v = stats_count(mc, 0, head, key)) < min &&
           g_get_monotonic_time() < end) {
        g_usleep(1000);
    }
    g_assert_cmpuint(v, >=, min);
    return v;
}

/* A frame over the receiver's max frame is dropped and counted. */
static void test_rx_mtu(void)
{
    Pair p;
    g_autofree char *rx = NULL;
    uint8_t d[64];

    pair_open(&p, "", ",max-frame=1514", 1);
    rq_post(p.m[1], &p.rq[1][0], gmem(p.mc, PAGE), PAGE);
    pair_send(&p, 2000);
    g_assert_cmpint(cqe_next(p.m[1], &p.rq[1][0], NULL), ==, -1);
    rx = stats_line(p.mc, 1, "rx");
    g_assert(strstr(rx, " mtu-drops 1 "));
    /* 1514 + a VLAN tag is the largest frame taken */
    pair_send(&p, 1518);
    g_assert_cmpint(cqe_next(p.m[1], &p.rq[1][0], d), ==, CQE_RX_OKAY);
    g_assert_cmpuint(ldl_le_p(d + 8) & 0xffff, ==, 1518);
    pair_close(&p);
}

/*
 * Generator frames over the max frame are dropped, and the generator does
 * not spin on them: it runs when buffers are posted, as for frames it can
 * deliver (a spinning bottom half counted a drop per iteration, forever).
 */
static void test_rxgen_mtu(void)
{
    Machine *mc;
    Mana *m;
    uint32_t eq;
    uint64_t d0, d1;
    Wq rq;

    setup(",max-frame=1514,rxgen-size=2000", &mc, &m);
    eq = new_eq(m, 1, NULL);
    create_wq(m, GDMA_WQ_RQ, eq, &rq);
    g_assert_cmphex(vport_rx(m, true, false, &rq.obj, NULL, 0), ==, 0);
    rq_post(m, &rq, gmem(mc, PAGE), PAGE);
    rxgen_set(mc, true);
    d0 = stats_wait(mc, "rx", "mtu-drops", 1);
    g_usleep(100 * 1000);
    d1 = stats_count(mc, 0, "rx", "mtu-drops");
    g_assert_cmpuint(d1, ==, d0);
    g_assert_cmpint(cqe_next(m, &rq, NULL), ==, -1);
    teardown(mc, m);
}

/*
 * "RQ full" belongs to the RQ: a frame waiting for a buffer on one RQ is
 * not offered again when another RQ gets one, and is let go when its RQ
 * is destroyed (else the whole receive path stays stuck).
 */
static void test_rq_full(void)
{
    Pair p;
    g_autofree char *rx = NULL, *rx2 = NULL, *rx3 = NULL, *rq = NULL;
    g_autofree char *head = NULL;
    uint8_t b[0x38];

    pair_open(&p, "", "", 2);
    pair_send(&p, 100);                 /* RQ 0 (default) has no buffer */
    head = g_strdup_printf("rq %u", p.rq[1][0].id);
    rq = stats_line(p.mc, 1, head);
    g_assert(strstr(rq, " full on waits 1"));
    rq_post(p.m[1], &p.rq[1][1], gmem(p.mc, PAGE), PAGE);   /* other RQ */
    rx = stats_line(p.mc, 1, "rx");
    g_assert(strstr(rx, " queued 1 "));
    g_assert_cmpint(cqe_next(p.m[1], &p.rq[1][1], NULL), ==, -1);

    /* the RQ goes away: its frame is dropped, later frames flow again */
    req_hdr(p.m[1], b, MANA_DESTROY_WQ_OBJ, sizeof(b));
    stq_le_p(b + 0x30, p.rq[1][0].obj);
    g_assert_cmphex(hwc_send(p.m[1], b, sizeof(b)), ==, 0);
    rx2 = stats_line(p.mc, 1, "rx");
    g_assert(strstr(rx2, " nowqe 1 "));
    g_assert(strstr(rx2, " waiting-rq -1"));
    pair_send(&p, 100);
    rx3 = stats_line(p.mc, 1, "rx");
    g_assert(strstr(rx3, " nowqe 2 "));
    pair_close(&p);
}

/*
 * A system reset (the device's Resettable phases): every object, the
 * clamp and the RQ-full wait are gone; the frame QEMU held for the full
 * RQ is offered again when the reset ends and dropped (vport disabled);
 * the function comes up again from scratch.
 */
static void test_reset(void)
{
    g_autofree char *rx = NULL, *rx2 = NULL, *obj = NULL, *hwc = NULL;
    g_autofree char *link = NULL;
    Pair p;
    int i;

    pair_open(&p, "", "", 1);
    qom_set_u32(p.mc, "/machine/peripheral/mana1", "clamp-mbps", 1000, true);
    pair_send(&p, 100);                 /* mana1's RQ has no buffer */
    rx = stats_line(p.mc, 1, "rx");
    g_assert(strstr(rx, " queued 1 "));
    g_assert(!strstr(rx, " waiting-rq -1"));

    qtest_qmp_assert_success(p.mc->qts, "{ 'execute': 'system_reset' }");
    qtest_qmp_eventwait(p.mc->qts, "RESET");

    rx2 = stats_line(p.mc, 1, "rx");
    g_assert(strstr(rx2, " queued 0 "));
    g_assert(strstr(rx2, " vport-off 1 "));     /* the held frame, dropped */
    g_assert(strstr(rx2, " waiting-rq -1"));
    obj = stats_line(p.mc, 1, "objects");
    g_assert_cmpstr(obj, ==, "cq 0 regions 0");
    hwc = qom_get_str(p.mc, "/machine/peripheral/mana1", "stats");
    g_assert(g_str_has_prefix(hwc, "hwc: down "));
    link = stats_line(p.mc, 1, "link");
    g_assert(strstr(link, " clamp off 0 Mbps"));
    for (i = 0; i < 2; i++) {
        mana_close(p.m[i]);
        p.m[i] = mana_open(p.mc, 4 + i);     /* BARs and MSI-X again */
        hwc_up(p.m[i]);                     /* SMC dword 7 is 0 again */
    }
    pair_close(&p);
}

/*
 * The clamp paces TSO segments, not descriptors: at 100 Mbit/s a 60-segment
 * TSO WQE (about 63 KB on the wire) takes about 5 ms at the clamp's rate,
 * and its completion comes after its last segment.
 */
static void test_tso_pacing(void)
{
    Machine *mc;
    Mana *m;
    uint32_t eq, k, len = 54 + 60 * 1000;
    g_autofree uint8_t *f = g_malloc0(len);
    g_autofree char *sqh = NULL;
    uint64_t fa, n;
    Wq sq;

    setup(NULL, &mc, &m);
    eq = new_eq(m, 1, NULL);
    create_wq(m, GDMA_WQ_SQ, eq, &sq);
    sqh = g_strdup_printf("sq %u", sq.id);
    memset(f, 0xff, 6);
    stw_be_p(f + 12, 0x0800);
    f[14] = 0x45;
    f[22] = 64;
    f[23] = 6;                                      /* TCP */
    f[14 + 20 + 12] = 5 << 4;
    for (k = 54; k < len; k++) {
        f[k] = k;
    }
    fa = gmem(mc, len);
    qtest_memwrite(mc->qts, fa, f, len);
    qom_set_u32(mc, "/machine/peripheral/mana0", "clamp-mbps", 100, true);
    tx_post(m, &sq, fa, len, 1u << 11 | 1000u << 16);
    qtest_clock_step(mc->qts, 1000 * 1000);
    n = stats_count(mc, 0, sqh, "frames");
    g_test_message("TSO at 100 Mbit/s: %" PRIu64 " of 60 segments in 1 ms", n);
    g_assert_cmpuint(n, >, 0);
    g_assert_cmpuint(n, <, 30);
    g_assert_cmpint(cqe_next(m, &sq, NULL), ==, -1);
    /*
     * At the clamp's rate: 60 x 1054 B at 12.5 B/us, the last segment
     * once 59 have been paid for, at 4.955 ms.
     */
    qtest_clock_step(mc->qts, 3800 * 1000);
    g_assert_cmpuint(stats_count(mc, 0, sqh, "frames"), <, 60);
    g_assert_cmpint(cqe_next(m, &sq, NULL), ==, -1);
    qtest_clock_step(mc->qts, 400 * 1000);
    g_assert_cmpuint(stats_count(mc, 0, sqh, "frames"), ==, 60);
    g_assert_cmpint(cqe_next(m, &sq, NULL), ==, CQE_TX_OKAY);
    teardown(mc, m);
}

/* The Internet checksum of @len bytes at @p on top of @sum, folded */
static uint16_t csum(const uint8_t *p, size_t len, uint32_t sum)
{
    size_t i;

    for (i = 0; i + 1 < len; i += 2) {
        sum += lduw_be_p(p + i);
    }
    if (len & 1) {
        sum += p[len - 1] << 8;
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return ~sum & 0xffff;
}

/*
 * RX classification: the RSS hash, its NDIS type and the checksum bits of
 * the RX CQE, checked against Microsoft's published RSS verification
 * vectors (key below; IPv4 66.9.149.187:2794 -> 161.142.100.80:1766,
 * IPv6 3ffe:2501:200:1fff::7:2794 -> 3ffe:2501:200:3::1:1766).
 */
static const uint8_t rss_test_key[40] = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
    0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
    0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
    0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
    0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

#define RXC_V6          1       /* IPv6 instead of IPv4 */
#define RXC_VLAN        2       /* an 802.1Q tag */
#define RXC_BAD_IP      4       /* a wrong IPv4 header checksum */
#define RXC_BAD_L4      8       /* a wrong TCP/UDP checksum */
#define RXC_NO_UDPSUM   16      /* UDP checksum 0 */
#define RXC_FRAG        32      /* IPv4 MF set */

/* A TCP or UDP frame to mana1 with 40 payload bytes; its length. */
static size_t rxc_frame(uint8_t *f, uint8_t proto, int how)
{
    static const uint8_t s6[16] = { 0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00,
                                    0x1f, 0xff, [15] = 7 };
    static const uint8_t d6[16] = { 0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00,
                                    0x00, 0x03, [15] = 1 };
    size_t l3 = 14, l4, l4len = (proto == 6 ? 20 : 8) + 40, i;
    uint32_t ph;

    memset(f, 0, 128);
    memcpy(f, "\x52\x54\x00\x4d\x41\x02", 6);
    f[11] = 0x01;
    if (how & RXC_VLAN) {
        stw_be_p(f + 12, 0x8100);
        stw_be_p(f + 14, 5);
        l3 += 4;
    }
    stw_be_p(f + l3 - 2, how & RXC_V6 ? 0x86dd : 0x0800);
    if (how & RXC_V6) {
        f[l3] = 0x60;
        stw_be_p(f + l3 + 4, l4len);
        f[l3 + 6] = proto;
        f[l3 + 7] = 64;
        memcpy(f + l3 + 8, s6, 16);
        memcpy(f + l3 + 24, d6, 16);
        l4 = l3 + 40;
        ph = (uint16_t)~csum(f + l3 + 8, 32, 0);
    } else {
        f[l3] = 0x45;
        stw_be_p(f + l3 + 2, 20 + l4len);
        if (how & RXC_FRAG) {
            stw_be_p(f + l3 + 6, 0x2000);
        }
        f[l3 + 8] = 64;
        f[l3 + 9] = proto;
        stl_be_p(f + l3 + 12, 0x420995bb);      /* 66.9.149.187 */
        stl_be_p(f + l3 + 16, 0xa18e6450);      /* 161.142.100.80 */
        stw_be_p(f + l3 + 10, csum(f + l3, 20, 0) ^
                 (how & RXC_BAD_IP ? 1 : 0));
        l4 = l3 + 20;
        ph = (uint16_t)~csum(f + l3 + 12, 8, 0);
    }
    stw_be_p(f + l4, 2794);
    stw_be_p(f + l4 + 2, 1766);
    if (proto == 6) {
        stl_be_p(f + l4 + 4, 1);
        f[l4 + 12] = 5 << 4;
        f[l4 + 13] = 0x18;
    } else {
        stw_be_p(f + l4 + 4, l4len);
    }
    for (i = l4 + l4len - 40; i < l4 + l4len; i++) {
        f[i] = i;
    }
    if (!(how & RXC_NO_UDPSUM)) {
        uint16_t c = csum(f + l4, l4len, ph + proto + l4len);

        if (proto == 17 && c == 0) {
            c = 0xffff;
        }
        if (how & RXC_BAD_L4) {
            c ^= 1;
        }
        stw_be_p(f + l4 + (proto == 6 ? 16 : 6), c);
    }
    return l4 + l4len;
}

static void test_rx_classify(void)
{
    static const struct {
        uint8_t proto;
        int how;
        uint32_t htype, flags, hash;
    } cases[] = {
        /* NDIS hash type (bit), CQE bits 25.. (IP ok/fail, TCP, UDP) */
        { 6, 0, 1 << 1, 1 << 25 | 1 << 27, 0x51ccc178 },
        { 17, 0, 1 << 2, 1 << 25 | 1 << 29, 0x51ccc178 },
        { 17, RXC_NO_UDPSUM, 1 << 2, 1 << 25 | 1 << 29, 0x51ccc178 },
        { 6, RXC_BAD_L4, 1 << 1, 1 << 25 | 1 << 28, 0x51ccc178 },
        { 17, RXC_BAD_L4, 1 << 2, 1 << 25 | 1 << 30, 0x51ccc178 },
        { 6, RXC_BAD_IP, 1 << 1, 1 << 26 | 1 << 27, 0x51ccc178 },
        { 6, RXC_FRAG, 1 << 0, 1 << 25, 0x323e8fc2 },
        { 6, RXC_VLAN, 1 << 1, 1 << 25 | 1 << 27, 0x51ccc178 },
        { 6, RXC_V6, 1 << 4, 1 << 25 | 1 << 27, 0x40207d3d },
        { 17, RXC_V6, 1 << 5, 1 << 25 | 1 << 29, 0x40207d3d },
        { 6, RXC_V6 | RXC_BAD_L4, 1 << 4, 1 << 25 | 1 << 28, 0x40207d3d },
        { 0, 0, 0, 0, 0 },                          /* not IP */
    };
    uint8_t b[0x78], f[128], d[64];
    uint64_t buf;
    Pair p;
    size_t i, len;

    pair_open(&p, "", "", 1);
    req_hdr(p.m[1], b, MANA_CONFIG_VPORT_RX, sizeof(b));
    stq_le_p(b + 0x28, MANA_VPORT_HANDLE);
    stl_le_p(b + 0x34, 1);
    b[0x3d] = 1;
    memcpy(b + 0x48, rss_test_key, sizeof(rss_test_key));
    g_assert_cmphex(hwc_send(p.m[1], b, sizeof(b)), ==, 0);
    buf = gmem(p.mc, PAGE);
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        if (cases[i].proto) {
            len = rxc_frame(f, cases[i].proto, cases[i].how);
        } else {
            memset(f, 0, sizeof(f));
            memcpy(f, "\x52\x54\x00\x4d\x41\x02", 6);
            stw_be_p(f + 12, 0x88b5);
            len = 100;
        }
        qtest_memwrite(p.mc->qts, p.fa, f, len);
        rq_post(p.m[1], &p.rq[1][0], buf, PAGE);
        tx_post(p.m[0], &p.sq[0], p.fa, len, 0);
        g_assert_cmpint(cqe_next(p.m[0], &p.sq[0], NULL), ==, CQE_TX_OKAY);
        g_assert_cmpint(cqe_next(p.m[1], &p.rq[1][0], d), ==, CQE_RX_OKAY);
        g_test_message("case %zu: dword1 0x%08x hash 0x%08x", i,
                       ldl_le_p(d + 4), ldl_le_p(d + 16));
        g_assert_cmphex(ldl_le_p(d + 4) >> 16 & 0x1ff, ==, cases[i].htype);
        g_assert_cmphex(ldl_le_p(d + 4) & (0x3fu << 25), ==, cases[i].flags);
        g_assert_cmphex(ldl_le_p(d + 16), ==, cases[i].hash);
    }
    pair_close(&p);
}

/* Toeplitz hash of @n bytes at @in with @key, bit by bit (the test's own) */
static uint32_t toeplitz(const uint8_t *key, const uint8_t *in, size_t n)
{
    uint32_t h = 0, w = ldl_be_p(key);
    size_t i;
    int b;

    for (i = 0; i < n; i++) {
        for (b = 7; b >= 0; b--) {
            if (in[i] >> b & 1) {
                h ^= w;
            }
            w = w << 1 | (key[i + 4] >> b & 1);
        }
    }
    return h;
}

/*
 * The RX generator's RSS: each flow's frame carries the Toeplitz hash of
 * its addresses and ports (computed here, bit by bit, after checking this
 * computation against Microsoft's vector) and lands on the RQ the
 * indirection table names for that hash.
 */
static void test_rxgen_hash(void)
{
    const uint32_t src = 0x420995bb, dst = 0xa18e6450, dport = 1766;
    const uint32_t nbuf = 16;
    g_autofree char *opts = g_strdup_printf(",rxgen-size=64,rxgen-flows=16,"
                                            "rxgen-src-ip=%u,rxgen-dst-ip=%u,"
                                            "rxgen-dst-port=%u", src, dst,
                                            dport);
    uint8_t b[0x78 + 8 * 4], f[64], d[64], in[12];
    uint64_t buf[2][16];
    uint32_t eq, i, q, hash, got[2] = { 0, 0 };
    Machine *mc;
    Mana *m;
    Wq rq[2];

    stl_be_p(in, src);
    stl_be_p(in + 4, dst);
    stw_be_p(in + 8, 2794);
    stw_be_p(in + 10, dport);
    g_assert_cmphex(toeplitz(rss_test_key, in, sizeof(in)), ==, 0x51ccc178);

    setup(opts, &mc, &m);
    eq = new_eq(m, 1, NULL);
    create_wq(m, GDMA_WQ_RQ, eq, &rq[0]);
    create_wq(m, GDMA_WQ_RQ, eq, &rq[1]);
    req_hdr(m, b, MANA_CONFIG_VPORT_RX, sizeof(b));
    stq_le_p(b + 0x28, MANA_VPORT_HANDLE);
    stw_le_p(b + 0x30, 4);
    stw_le_p(b + 0x32, 0x78);
    stl_le_p(b + 0x34, 1);                      /* RX on */
    stl_le_p(b + 0x38, 1);                      /* RSS on */
    b[0x3c] = 1;
    stq_le_p(b + 0x40, rq[0].obj);
    b[0x3d] = 1;
    memcpy(b + 0x48, rss_test_key, sizeof(rss_test_key));
    b[0x3e] = 1;
    for (i = 0; i < 4; i++) {                   /* RQ 0, 1, 0, 1 */
        stq_le_p(b + 0x78 + 8 * i, rq[i & 1].obj);
    }
    g_assert_cmphex(hwc_send(m, b, sizeof(b)), ==, 0);
    for (q = 0; q < 2; q++) {
        for (i = 0; i < nbuf; i++) {
            buf[q][i] = gmem(mc, 256);
            rq_post(m, &rq[q], buf[q][i], 256);
        }
    }
    rxgen_set(mc, true);
    stats_wait(mc, "rxgen", "frames", 2 * nbuf);
    rxgen_set(mc, false);
    for (q = 0; q < 2; q++) {
        for (i = 0; cqe_next(m, &rq[q], d) == CQE_RX_OKAY; i++) {
            g_assert_cmpuint(i, <, nbuf);
            qtest_memread(mc->qts, buf[q][i], f, sizeof(f));
            g_assert_cmphex((uint32_t)ldl_be_p(f + 26), ==, src);
            g_assert_cmphex((uint32_t)ldl_be_p(f + 30), ==, dst);
            g_assert_cmpuint(lduw_be_p(f + 36), ==, dport);
            memcpy(in + 8, f + 34, 2);          /* the flow's source port */
            hash = toeplitz(rss_test_key, in, sizeof(in));
            g_assert_cmphex((uint32_t)ldl_le_p(d + 16), ==, hash);
            g_assert_cmpuint(hash & 1, ==, q);  /* table: RQ 0, 1, 0, 1 */
            got[q]++;
        }
    }
    g_test_message("rxgen-hash: %u frames on RQ 0, %u on RQ 1", got[0],
                   got[1]);
    g_assert_cmpuint(got[0], ==, nbuf);
    g_assert_cmpuint(got[1], ==, nbuf);
    teardown(mc, m);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static bool qom_get_bool(Machine *mc, const char *path, const char *prop)
{
    QDict *r = qtest_qmp(mc->qts, "{ 'execute': 'qom-get', 'arguments': "
                         "{ 'path': %s, 'property': %s } }", path, prop);
    bool b;

    g_assert(r && qdict_haskey(r, "return"));
    b = qdict_get_bool(r, "return");
    qobject_unref(r);
    return b;
}

/*
 * An RQ of @n WQEs (the vport's only one, on a new EQ) whose buffers are
 * all the same 2 KiB of guest memory, written but not rung: the doorbell
 * is the caller's. Returns the buffer's address.
 */
static uint64_t rxgen_ring(Machine *mc, Mana *m, uint32_t n, Wq *rq)
{
    g_autofree uint8_t *w = g_malloc0(n * 32);
    uint64_t buf = gmem(mc, 2048);
    uint32_t i;

    new_wq(m, GDMA_WQ_RQ, new_eq(m, 1, NULL), n * 32, rq);
    g_assert_cmphex(vport_rx(m, true, false, &rq->obj, NULL, 0), ==, 0);
    for (i = 0; i < n; i++) {
        stl_le_p(w + 32 * i + 4, 1);
        stq_le_p(w + 32 * i + 8, buf);
        stl_le_p(w + 32 * i + 20, 2048);
    }
    qtest_bufwrite(mc->qts, rq->mem, w, n * 32);
    return buf;
}

/* Wait (10 s at most) until mana0's generator has stopped by itself. */
static void rxgen_wait_off(Machine *mc)
{
    gint64 t0 = g_get_monotonic_time();

    while (qom_get_bool(mc, "/machine/peripheral/mana0", "rxgen")) {
        g_assert_cmpint(g_get_monotonic_time() - t0, <, 10 * G_USEC_PER_SEC);
        g_usleep(1000);
    }
}

/*
 * The RX generator's rate (printed, not judged): 32768 buffers posted with
 * one doorbell, the wall time until the generator has filled them all.
 * Every generated frame must be a valid UDP datagram for its flow.
 */
static void test_rxgen_rate(void)
{
    static const uint32_t flows[] = { 1, 64 };
    const uint32_t n = 32768, ring = n * 32;
    Machine *mc;
    Mana *m;
    uint64_t buf, start = 0;
    uint8_t f[1514], d[64];
    uint32_t k, r, sum;
    Wq rq;

    setup(",rxgen-size=1514", &mc, &m);
    buf = rxgen_ring(mc, m, n, &rq);
    rxgen_set(mc, true);
    for (k = 0; k < ARRAY_SIZE(flows); k++) {
        double rate[5];

        qom_set_u32(mc, "/machine/peripheral/mana0", "rxgen-flows", flows[k],
                    true);
        for (r = 0; r < ARRAY_SIZE(rate); r++) {
            gint64 t0 = g_get_monotonic_time();

            rq.tail += ring;
            w64(m, DB(MANA_DB_RQ), rq.id | ((uint64_t)rq.tail << 32));
            while (stats_count(mc, 0, "rxgen", "frames") < start + n) {
                g_usleep(1000);
            }
            rate[r] = n / ((g_get_monotonic_time() - t0) / 1e6);
            start += n;
        }
        qsort(rate, ARRAY_SIZE(rate), sizeof(rate[0]), cmp_double);
        g_test_message("rxgen %s: 1514 B frames, %u flows: %.0f frames/s "
                       "(median of 5 runs of %u frames; %.0f-%.0f)",
                       qtest_get_arch(), flows[k], rate[2], n, rate[0],
                       rate[4]);
        /* the last frame: one of the flows, checksums right */
        qtest_memread(mc->qts, buf, f, sizeof(f));
        g_assert_cmpuint(lduw_be_p(f + 34), >=, 10000);
        g_assert_cmpuint(lduw_be_p(f + 34), <, 10000 + flows[k]);
        g_assert_cmphex(csum(f + 14, 20, 0), ==, 0);
        /* UDP over the pseudo header (addresses, protocol, length) */
        sum = (uint16_t)~csum(f + 26, 8, 0) + IP_PROTO_UDP_NUM +
              sizeof(f) - 34;
        g_assert_cmphex(csum(f + 34, sizeof(f) - 34, sum), ==, 0);
    }
    rq.cq_seen = start - 1;     /* the last CQE (owner count 4) */
    g_assert_cmpint(cqe_next(m, &rq, d), ==, CQE_RX_OKAY);
    teardown(mc, m);
}

/* ------------------------------------------------------------------ */
/* Randomized: guest-controlled values at random, QEMU must stay alive */

/*
 * rxgen-rate: the generator never runs ahead of its pace, however many
 * buffers are posted. rxgen-duration-ms: the run ends by itself (the
 * property reads false, nothing more is generated), also when it ran out
 * of buffers before the end.
 */
static void test_rxgen_pace(void)
{
    const char *dev = "/machine/peripheral/mana0";
    const uint32_t n = 4096, ring = n * 32, rate = 2000;
    uint64_t buf, f0, f1, f2;
    gint64 t0, t;
    Machine *mc;
    Mana *m;
    Wq rq;

    setup(",rxgen-size=64,rxgen-rate=2000", &mc, &m);
    buf = rxgen_ring(mc, m, n, &rq);
    rq.tail += ring;
    w64(m, DB(MANA_DB_RQ), rq.id | ((uint64_t)rq.tail << 32));
    t0 = g_get_monotonic_time();
    rxgen_set(mc, true);
    g_usleep(300 * 1000);
    f0 = stats_count(mc, 0, "rxgen", "frames");
    t = g_get_monotonic_time() - t0;
    g_test_message("rxgen-pace: %" PRIu64 " frames in %" PRId64 " us at "
                   "%u/s", f0, t, rate);
    g_assert_cmpuint(f0, >=, 1);
    /* the pace, and at most the batch in flight when it was read */
    g_assert_cmpuint(f0, <=, (uint64_t)rate * t / G_USEC_PER_SEC + 64);

    /* unpaced, the same run takes every buffer left, then waits */
    qom_set_u32(mc, dev, "rxgen-rate", 0, true);
    stats_wait(mc, "rxgen", "frames", n);
    /* a duration set then ends it at once: it began 300 ms ago */
    qom_set_u32(mc, dev, "rxgen-duration-ms", 100, true);
    rxgen_wait_off(mc);
    /* a new run with no buffer at all ends after its 100 ms too */
    rxgen_set(mc, true);
    t0 = g_get_monotonic_time();
    rxgen_wait_off(mc);
    t = g_get_monotonic_time() - t0;
    g_assert_cmpint(t, >=, 100 * 1000 - 20 * 1000);   /* QMP's round trip */
    f1 = stats_count(mc, 0, "rxgen", "frames");
    g_assert_cmpuint(f1, ==, n);
    rq_post(m, &rq, buf, 2048);                 /* nothing takes it */
    g_usleep(100 * 1000);
    f2 = stats_count(mc, 0, "rxgen", "frames");
    g_assert_cmpuint(f2, ==, n);
    teardown(mc, m);
}

/*
 * Generator frames DMA'd at the device's own BAR (the SMC): not a write to
 * the device, which goes on working; from the generator's thread as from
 * a vCPU's access.
 */
static void test_rxgen_own_bar(void)
{
    Machine *mc;
    Mana *m;
    uint32_t eq, smc0, i;
    Wq rq;

    setup(",rxgen-size=64", &mc, &m);
    smc0 = r32(m, MANA_SMC_OFFSET);
    eq = new_eq(m, 1, NULL);
    create_wq(m, GDMA_WQ_RQ, eq, &rq);
    g_assert_cmphex(vport_rx(m, true, false, &rq.obj, NULL, 0), ==, 0);
    for (i = 0; i < 8; i++) {
        rq_post(m, &rq, m->bar0_addr + MANA_SMC_OFFSET, 64);
    }
    rxgen_set(mc, true);
    stats_wait(mc, "rxgen", "frames", 8);
    g_assert_cmphex(r32(m, MANA_SMC_OFFSET), ==, smc0);
    hwc_ping(m);
    teardown(mc, m);
}

/*
 * The generator while the VM is stopped: nothing is written into guest
 * memory until it runs again, then the run goes on.
 */
static void test_rxgen_stop_cont(void)
{
    const uint32_t n = 16384;
    uint64_t f0, f1;
    Machine *mc;
    Mana *m;
    Wq rq;

    setup(",rxgen-size=64,rxgen-rate=20000", &mc, &m);
    rxgen_ring(mc, m, n, &rq);
    rq.tail += n * 32;
    w64(m, DB(MANA_DB_RQ), rq.id | ((uint64_t)rq.tail << 32));
    rxgen_set(mc, true);
    stats_wait(mc, "rxgen", "frames", 200);

    qtest_qmp_assert_success(mc->qts, "{ 'execute': 'stop' }");
    f0 = stats_count(mc, 0, "rxgen", "frames");
    g_assert_cmpuint(f0, <, n);                 /* stopped mid-run */
    g_usleep(200 * 1000);
    f1 = stats_count(mc, 0, "rxgen", "frames");
    g_assert_cmpuint(f1, ==, f0);
    g_assert(qom_get_bool(mc, "/machine/peripheral/mana0", "rxgen"));

    qtest_qmp_assert_success(mc->qts, "{ 'execute': 'cont' }");
    stats_wait(mc, "rxgen", "frames", f0 + 200);
    teardown(mc, m);
}

/*
 * A system reset under the generator: the queues it wrote are gone, so
 * nothing more lands in their buffers; the host's traffic (the property)
 * goes on, into the queues the driver creates after the reset.
 */
static void test_rxgen_reset(void)
{
    const uint32_t n = 16384;
    uint8_t before[2048], after[2048], d[64];
    uint64_t buf, f0;
    Machine *mc;
    Mana *m;
    Wq rq, rq2;

    setup(",rxgen-size=64,rxgen-rate=20000", &mc, &m);
    buf = rxgen_ring(mc, m, n, &rq);
    rq.tail += n * 32;
    w64(m, DB(MANA_DB_RQ), rq.id | ((uint64_t)rq.tail << 32));
    rxgen_set(mc, true);
    stats_wait(mc, "rxgen", "frames", 200);

    qtest_qmp_assert_success(mc->qts, "{ 'execute': 'system_reset' }");
    qtest_qmp_eventwait(mc->qts, "RESET");
    f0 = stats_count(mc, 0, "rxgen", "frames");
    g_assert_cmpuint(f0, <, n);                 /* reset mid-run */
    memset(before, 0x5a, sizeof(before));
    qtest_memwrite(mc->qts, buf, before, sizeof(before));
    g_usleep(200 * 1000);
    qtest_memread(mc->qts, buf, after, sizeof(after));
    g_assert(!memcmp(before, after, sizeof(after)));
    g_assert_cmpuint(stats_count(mc, 0, "rxgen", "frames"), ==, f0);
    g_assert(qom_get_bool(mc, "/machine/peripheral/mana0", "rxgen"));

    mana_close(m);
    m = mana_open(mc, 4);                       /* BARs and MSI-X again */
    hwc_up(m);
    rxgen_ring(mc, m, 128, &rq2);               /* a queue's 4 KiB minimum */
    rq2.tail += 128 * 32;
    w64(m, DB(MANA_DB_RQ), rq2.id | ((uint64_t)rq2.tail << 32));
    stats_wait(mc, "rxgen", "frames", f0 + 128);
    rq2.cq_seen = 127;                          /* the last CQE */
    g_assert_cmpint(cqe_next(m, &rq2, d), ==, CQE_RX_OKAY);
    teardown(mc, m);
}

/*
 * Hot unplug of a MANA whose generator is running (Azure removes a VF
 * from a running VM when it services the host): the device goes, its
 * thread with it, and nothing more is written into guest memory. The
 * MANA sits behind a PCI Express root port with native hotplug, set up
 * as firmware would; the test powers the slot off as a guest does when
 * the attention button is pressed.
 */
#define RP_DEV "-device pcie-root-port,id=rp0,addr=05.0,chassis=1,slot=1 " \
    "-netdev hubport,id=h0,hubid=0 -netdev hubport,id=hx,hubid=0 " \
    "-device mana,netdev=h0,id=mana0,bus=rp0,vectors=4," \
    "rxgen-size=64,rxgen-rate=20000"

static QPCIDevice *root_port_open(Machine *mc)
{
    QPCIDevice *rp = qpci_device_find(mc->bus, QPCI_DEVFN(5, 0));
    uint64_t lo = mc->bus->mmio_alloc_ptr;
    uint64_t hi = MIN(mc->bus->mmio_limit, lo + 256 * MiB) - 1;

    g_assert(rp);
    qpci_config_writeb(rp, PCI_PRIMARY_BUS, 0);
    qpci_config_writeb(rp, PCI_SECONDARY_BUS, 1);
    qpci_config_writeb(rp, PCI_SUBORDINATE_BUS, 1);
    /* the window in 1 MiB units: address bits 31-20 in bits 15-4 */
    qpci_config_writew(rp, PCI_MEMORY_BASE, lo >> 16 & PCI_MEMORY_RANGE_MASK);
    qpci_config_writew(rp, PCI_MEMORY_LIMIT, hi >> 16 & PCI_MEMORY_RANGE_MASK);
    qpci_device_enable(rp);                     /* memory, bus mastering */
    return rp;
}

static void test_rxgen_unplug(void)
{
    const uint32_t n = 16384;
    uint8_t before[2048], after[2048];
    g_autofree char *devs = g_strdup_printf("%s" RP_DEV, is_arm() ? "" :
        "-global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off ");
    QPCIDevice *rp;
    uint64_t buf;
    uint8_t exp;
    uint16_t ctl;
    Machine *mc;
    Mana *m;
    Wq rq;

    mc = machine_new(devs);
    rp = root_port_open(mc);
    m = mana_open_at(mc, 1 << 8);               /* bus 1, device 0 */
    hwc_up(m);
    buf = rxgen_ring(mc, m, n, &rq);
    rq.tail += n * 32;
    w64(m, DB(MANA_DB_RQ), rq.id | ((uint64_t)rq.tail << 32));
    rxgen_set(mc, true);
    stats_wait(mc, "rxgen", "frames", 200);
    g_assert_cmpuint(stats_count(mc, 0, "rxgen", "frames"), <, n);

    qtest_qmp_device_del_send(mc->qts, "mana0");
    exp = qpci_find_capability(rp, PCI_CAP_ID_EXP, 0);
    ctl = qpci_config_readw(rp, exp + PCI_EXP_SLTCTL) & ~PCI_EXP_SLTCTL_PIC;
    qpci_config_writew(rp, exp + PCI_EXP_SLTCTL,
                       ctl | PCI_EXP_SLTCTL_PWR_IND_OFF | PCI_EXP_SLTCTL_PCC);
    qtest_qmp_eventwait(mc->qts, "DEVICE_DELETED");

    g_assert(alive(mc));
    memset(before, 0x5a, sizeof(before));
    qtest_memwrite(mc->qts, buf, before, sizeof(before));
    g_usleep(200 * 1000);
    qtest_memread(mc->qts, buf, after, sizeof(after));
    g_assert(!memcmp(before, after, sizeof(after)));
    g_free(rp);
    mana_close(m);
    machine_free(mc);
}

/* The message codes the device implements (others are just unsupported) */
static const uint32_t fuzz_codes[] = {
    2, 3, 4, 10, 12, 13, 25, 27, 84, 0x20001, 0x20002, 0x20003, 0x20004,
    0x20005, 0x20006, 0x20007, 0x20008, 0x2000a, 0x2000b,
};

static void fuzz_one(Mana *m, GRand *rnd, Wq *sq, Wq *rq, uint64_t scratch)
{
    Machine *mc = m->mc;
    uint32_t what = g_rand_int_range(rnd, 0, 8);
    uint8_t b[0x100];
    uint32_t i, len;

    switch (what) {
    case 0:         /* a register, SMC dword or doorbell */
        if (g_rand_boolean(rnd)) {
            w64(m, DB(g_rand_int_range(rnd, 0, 0x1000) & ~7),
                ((uint64_t)g_rand_int(rnd) << 32) | g_rand_int(rnd));
        } else {
            w32(m, g_rand_int_range(rnd, 0, 0x200) & ~3, g_rand_int(rnd));
        }
        break;
    case 1:         /* an HWC message with random fields */
    case 2:
        len = g_rand_int_range(rnd, 0x28, sizeof(b));
        for (i = 0; i < sizeof(b); i++) {
            b[i] = g_rand_int(rnd);
        }
        stl_le_p(b + 4, fuzz_codes[g_rand_int_range(rnd, 0,
                                                    ARRAY_SIZE(fuzz_codes))]);
        if (g_rand_boolean(rnd)) {
            stq_le_p(b + 0x28, MANA_VPORT_HANDLE);
        }
        if (g_rand_boolean(rnd)) {
            for (i = 0x30; i + 8 <= len; i += 8) {
                if (g_rand_int_range(rnd, 0, 3) == 0) {
                    stq_le_p(b + i, scratch + PAGE *
                             g_rand_int_range(rnd, 0, 4) +
                             (g_rand_boolean(rnd) ? 0 : m->bar0_addr));
                }
            }
        }
        hwc_send_nowait(m, b, len);
        break;
    case 3:         /* a random SQ WQE */
    case 4:
        for (i = 0; i < 32; i += 4) {
            qtest_writel(mc->qts, sq->mem + ((sq->tail + i) & (PAGE - 1)),
                         g_rand_int(rnd));
        }
        if (g_rand_boolean(rnd)) {
            qtest_writeq(mc->qts, sq->mem + ((sq->tail + 16) & (PAGE - 1)),
                         g_rand_boolean(rnd) ? m->bar0_addr : scratch);
        }
        if (g_rand_boolean(rnd)) {
            /* the right vport offsets (short and long form): reach TX */
            qtest_writeb(mc->qts, sq->mem + ((sq->tail + 15) & (PAGE - 1)),
                         0);
            qtest_writew(mc->qts, sq->mem + ((sq->tail + 22) & (PAGE - 1)),
                         0);
        }
        sq->tail += 32;
        w64(m, DB(MANA_DB_SQ), sq->id | ((uint64_t)sq->tail << 32));
        break;
    case 5:         /* a random RQ WQE, then a frame to it */
        for (i = 0; i < 32; i += 4) {
            qtest_writel(mc->qts, rq->mem + ((rq->tail + i) & (PAGE - 1)),
                         g_rand_int(rnd));
        }
        rq->tail += 32;
        w64(m, DB(MANA_DB_RQ), rq->id | ((uint64_t)rq->tail << 32));
        break;
    case 6:         /* random memory the queues point at */
        for (i = 0; i < 16; i++) {
            qtest_writel(mc->qts, scratch +
                         (g_rand_int_range(rnd, 0, 4 * PAGE) & ~3),
                         g_rand_int(rnd));
        }
        break;
    case 7:         /* time passes: timers and the pacing run */
        if (g_rand_int_range(rnd, 0, 4) == 0) {
            qom_set_u32(mc, "/machine/peripheral/mana0", "clamp-mbps",
                        g_rand_int_range(rnd, 0, 1000), true);
        }
        if (g_rand_int_range(rnd, 0, 8) == 0) {
            qom_set_u32(mc, "/machine/peripheral/mana0", "fault-delay-ms",
                        g_rand_int_range(rnd, 0, 3), true);
        }
        if (g_rand_int_range(rnd, 0, 8) == 0) {     /* the generator */
            qom_set_u32(mc, "/machine/peripheral/mana0", "rxgen-rate",
                        g_rand_int_range(rnd, 0, 2) *
                        g_rand_int_range(rnd, 1, 1000000), true);
            qom_set_u32(mc, "/machine/peripheral/mana0", "rxgen-duration-ms",
                        g_rand_int_range(rnd, 0, 50), true);
            rxgen_set(mc, g_rand_int_range(rnd, 0, 4) != 0);
        }
        qtest_clock_step(mc->qts, g_rand_int_range(rnd, 1, 5000000));
        break;
    }
}

static void test_fuzz(void)
{
    const char *env = g_getenv("MANA_FUZZ_SECONDS");
    double secs = env && *env ? g_ascii_strtod(env, NULL) : 5;
    const char *seed_env = g_getenv("MANA_FUZZ_SEED");
    unsigned long seed_val = 0;
    uint64_t n = 0, rounds = 0;
    guint32 seed;
    GRand *rnd;
    gint64 end;

    if (seed_env && *seed_env) {
        g_assert(qemu_strtoul(seed_env, NULL, 0, &seed_val) == 0);
        seed = seed_val;
    } else {
        seed = g_random_int();
    }
    rnd = g_rand_new_with_seed(seed);
    end = g_get_monotonic_time() + (gint64)(secs * G_USEC_PER_SEC);

    g_test_message("fuzz seed %u (MANA_FUZZ_SEED), %.0f s "
                   "(MANA_FUZZ_SECONDS)", seed, secs);
    while (g_get_monotonic_time() < end) {
        Machine *mc;
        Mana *m;
        uint64_t scratch;
        uint32_t eq, i;
        Wq sq, rq;

        setup(NULL, &mc, &m);
        rxgen_set(mc, true);
        scratch = gmem(mc, 4 * PAGE);
        eq = new_eq(m, 1, NULL);
        create_wq(m, GDMA_WQ_SQ, eq, &sq);
        create_wq(m, GDMA_WQ_RQ, eq, &rq);
        g_assert_cmphex(vport_rx(m, true, false, &rq.obj, NULL, 0), ==, 0);
        for (i = 0; i < 300 && g_get_monotonic_time() < end; i++) {
            fuzz_one(m, rnd, &sq, &rq, scratch);
            n++;
        }
        rounds++;
        teardown(mc, m);
    }
    g_test_message("fuzz: %" PRIu64 " actions over %" PRIu64 " machines",
                   n, rounds);
    g_rand_free(rnd);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("mana/probe", test_probe);
    qtest_add_func("mana/tx-rx", test_tx_rx);
    qtest_add_func("mana/crash-eq-in-bar", test_crash_eq_in_bar);
    qtest_add_func("mana/own-bar-dma", test_own_bar_dma);
    qtest_add_func("mana/bad-regions", test_bad_regions);
    qtest_add_func("mana/bad-queues", test_bad_queues);
    qtest_add_func("mana/bad-establish", test_bad_establish);
    qtest_add_func("mana/bad-rss", test_bad_rss);
    qtest_add_func("mana/bad-tx", test_bad_tx);
    qtest_add_func("mana/bad-dma", test_bad_dma);
    qtest_add_func("mana/bad-props", test_bad_props);
    qtest_add_func("mana/long-delay", test_long_delay);
    qtest_add_func("mana/rate-window", test_rate_window);
    qtest_add_func("mana/pcie", test_pcie);
    qtest_add_func("mana/tx-errors", test_tx_errors);
    qtest_add_func("mana/rx-mtu", test_rx_mtu);
    qtest_add_func("mana/rxgen-mtu", test_rxgen_mtu);
    qtest_add_func("mana/rq-full", test_rq_full);
    qtest_add_func("mana/reset", test_reset);
    qtest_add_func("mana/tso-pacing", test_tso_pacing);
    qtest_add_func("mana/rx-classify", test_rx_classify);
    qtest_add_func("mana/rxgen-hash", test_rxgen_hash);
    qtest_add_func("mana/rxgen-rate", test_rxgen_rate);
    qtest_add_func("mana/rxgen-pace", test_rxgen_pace);
    qtest_add_func("mana/rxgen-own-bar", test_rxgen_own_bar);
    qtest_add_func("mana/rxgen-stop-cont", test_rxgen_stop_cont);
    qtest_add_func("mana/rxgen-reset", test_rxgen_reset);
    qtest_add_func("mana/rxgen-unplug", test_rxgen_unplug);
    qtest_add_func("mana/fuzz", test_fuzz);
    return g_test_run();
}
