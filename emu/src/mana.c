/*
 * Microsoft Azure Network Adapter (MANA) emulation: PCI function
 *
 * A MANA virtual function (PCI 1414:00BA) with BAR0 holding the
 * register map, the shared memory channel and the doorbell page, and
 * MSI-X in BAR2; a PCI Express endpoint without an INTx pin.  The
 * protocol lives in mana_core.c and the files it names.
 *
 * Copyright (c) 2025 The MANA emulation authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/module.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "hw/boards.h"
#include "hw/pci/pci_device.h"
#include "hw/pci/msix.h"
#include "hw/pci/pcie.h"
#include "hw/qdev-properties.h"
#include "hw/resettable.h"
#include "migration/vmstate.h"
#include "net/net.h"
#include "qom/object.h"
#include "mana_core.h"
#include "trace.h"

#define TYPE_MANA "mana"
OBJECT_DECLARE_SIMPLE_TYPE(ManaState, MANA)

#define MANA_VENDOR_ID      0x1414
#define MANA_DEVICE_ID_VF   0x00ba
#define MANA_BAR0_IDX       0
#define MANA_MSIX_IDX       2
#define MANA_PCIE_CAP_OFF   0x70

struct ManaState {
    PCIDevice parent_obj;

    MemoryRegion bar0;
    NICConf conf;
    ManaCore core;
};

static uint64_t mana_bar0_read(void *opaque, hwaddr addr, unsigned size)
{
    ManaState *s = opaque;

    return mana_core_bar0_read(&s->core, addr, size);
}

static void mana_bar0_write(void *opaque, hwaddr addr, uint64_t val,
                            unsigned size)
{
    ManaState *s = opaque;

    mana_core_bar0_write(&s->core, addr, val, size);
}

static const MemoryRegionOps mana_bar0_ops = {
    .read = mana_bar0_read,
    .write = mana_bar0_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
};

static bool mana_nc_can_receive(NetClientState *nc)
{
    return mana_core_can_receive(qemu_get_nic_opaque(nc));
}

static ssize_t mana_nc_receive(NetClientState *nc, const uint8_t *buf,
                               size_t size)
{
    return mana_core_receive(qemu_get_nic_opaque(nc), buf, size);
}

static NetClientInfo mana_net_info = {
    .type = NET_CLIENT_DRIVER_NIC,
    .size = sizeof(NICState),
    .can_receive = mana_nc_can_receive,
    .receive = mana_nc_receive,
};

static void mana_realize(PCIDevice *pci_dev, Error **errp)
{
    ManaState *s = MANA(pci_dev);
    DeviceState *dev = DEVICE(pci_dev);
    ManaCore *c = &s->core;
    uint32_t i;
    int ret;

    if (c->vectors == 0) {
        MachineState *ms = MACHINE(qdev_get_machine());

        c->vectors = MIN(ms->smp.cpus, MANA_MAX_QUEUES) + 1;
    }
    if (c->vectors < 2 || c->vectors > MANA_MAX_VECTORS) {
        error_setg(errp, "mana: vectors must be between 2 and %d",
                   MANA_MAX_VECTORS);
        return;
    }
    if (c->queues < 1 || c->queues > MANA_MAX_QUEUES) {
        error_setg(errp, "mana: queues must be between 1 and %d",
                   MANA_MAX_QUEUES);
        return;
    }
    if (c->num_indir_ent < 1 || c->num_indir_ent > 256 ||
        !is_power_of_2(c->num_indir_ent)) {
        error_setg(errp, "mana: indirection-entries must be a power of 2 "
                   "between 1 and 256");
        return;
    }
    if (c->adapter_mtu < 1514 || c->adapter_mtu > 9216) {
        error_setg(errp, "mana: max-frame must be between 1514 and 9216");
        return;
    }
    if (c->max_speed_mbps < 100 || c->max_speed_mbps > MANA_MAX_SPEED_MBPS) {
        error_setg(errp, "mana: max-speed-mbps must be between 100 and %u",
                   MANA_MAX_SPEED_MBPS);
        return;
    }

    /*
     * A PCI Express endpoint (a Root Complex Integrated Endpoint on a root
     * bus, as QEMU types it there), interrupting through MSI-X only: no
     * INTx pin, as the VF has none.  No FLR: a reset reachable from
     * config space would also be reachable from the device's own DMA
     * into ECAM, outside the re-entrancy guard.
     */
    pci_dev->config[PCI_INTERRUPT_PIN] = 0;
    if (pcie_endpoint_cap_init(pci_dev, MANA_PCIE_CAP_OFF) < 0) {
        error_setg(errp, "mana: cannot add the PCI Express capability");
        return;
    }

    memory_region_init_io(&s->bar0, OBJECT(s), &mana_bar0_ops, s,
                          "mana-bar0", MANA_BAR0_SIZE);
    pci_register_bar(pci_dev, MANA_BAR0_IDX,
                     PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64, &s->bar0);

    ret = msix_init_exclusive_bar(pci_dev, c->vectors, MANA_MSIX_IDX, errp);
    if (ret) {
        pcie_cap_exit(pci_dev);
        return;
    }
    for (i = 0; i < c->vectors; i++) {
        msix_vector_use(pci_dev, i);
    }

    qemu_macaddr_default_if_unset(&s->conf.macaddr);
    memcpy(c->mac, s->conf.macaddr.a, sizeof(c->mac));
    s->core.nic = qemu_new_nic(&mana_net_info, &s->conf,
                               object_get_typename(OBJECT(s)), dev->id,
                               &dev->mem_reentrancy_guard, c);
    qemu_format_nic_info_str(qemu_get_queue(s->core.nic), c->mac);

    c->owner = pci_dev;
    mana_core_realize(c);
    trace_mana_realize(c->vectors, c->queues);
}

static void mana_exit(PCIDevice *pci_dev)
{
    ManaState *s = MANA(pci_dev);

    mana_core_unrealize(&s->core);
    qemu_del_nic(s->core.nic);
    msix_unuse_all_vectors(pci_dev);
    msix_uninit_exclusive_bar(pci_dev);
    pcie_cap_exit(pci_dev);
}

/*
 * Reset (Resettable): entering reset drops every object and the clamp
 * and forgets a frame waiting for a full RQ, touching nothing outside
 * the device; leaving it offers QEMU's queued frames again (they are
 * then dropped as RX with the vport disabled).
 */
static void mana_reset_enter(Object *obj, ResetType type)
{
    mana_core_reset_enter(&MANA(obj)->core);
}

static void mana_reset_exit(Object *obj, ResetType type)
{
    mana_core_reset_exit(&MANA(obj)->core);
}

static const VMStateDescription mana_vmstate = {
    .name = "mana",
    .unmigratable = 1,
};

static const Property mana_properties[] = {
    DEFINE_NIC_PROPERTIES(ManaState, conf),
    DEFINE_PROP_UINT32("queues", ManaState, core.queues, 16),
    DEFINE_PROP_UINT32("vectors", ManaState, core.vectors, 0),
    DEFINE_PROP_UINT32("max-speed-mbps", ManaState, core.max_speed_mbps,
                       100000),
    DEFINE_PROP_UINT32("max-frame", ManaState, core.adapter_mtu, 9014),
    DEFINE_PROP_UINT32("indirection-entries", ManaState, core.num_indir_ent,
                       64),
    DEFINE_PROP_BOOL("bw-clamp", ManaState, core.bw_clamp_supported, true),
    DEFINE_PROP_BOOL("rx-queue-when-full", ManaState,
                     core.rx_queue_when_full, true),
};

/*
 * Run-time knobs: plain QOM properties (qom-set/qom-get, also usable on
 * the -device command line) that stay writable after realize.
 */
typedef struct ManaRtProp {
    const char *name;
    bool is_bool;
    size_t offset;
    uint32_t min, max;      /* accepted range of a uint32 knob */
    const char *desc;
} ManaRtProp;

static void mana_rt_get_u32(Object *obj, Visitor *v, const char *name,
                            void *opaque, Error **errp)
{
    const ManaRtProp *p = opaque;
    uint32_t *field = (uint32_t *)((uint8_t *)obj + p->offset);

    visit_type_uint32(v, name, field, errp);
}

/* A value out of range is refused and the knob keeps its old value. */
static void mana_rt_set_u32(Object *obj, Visitor *v, const char *name,
                            void *opaque, Error **errp)
{
    const ManaRtProp *p = opaque;
    uint32_t *field = (uint32_t *)((uint8_t *)obj + p->offset);
    uint32_t val;

    if (!visit_type_uint32(v, name, &val, errp)) {
        return;
    }
    if (val < p->min || val > p->max) {
        error_setg(errp, "%s must be between %u and %u", name, p->min,
                   p->max);
        return;
    }
    *field = val;
    /*
     * A generator knob wakes its thread: a duration set while the thread
     * waits for buffers must still end the run on time, a new size may fit
     * the MTU, a new rate starts a new pace.
     */
    if (DEVICE(obj)->realized &&
        p->offset >= offsetof(ManaState, core.gen) &&
        p->offset < offsetof(ManaState, core.gen) + sizeof(ManaRxGen)) {
        mana_rxgen_kick(&MANA(obj)->core);
    }
}

static void mana_rt_visit_bool(Object *obj, Visitor *v, const char *name,
                               void *opaque, Error **errp)
{
    const ManaRtProp *p = opaque;
    bool *field = (bool *)((uint8_t *)obj + p->offset);

    visit_type_bool(v, name, field, errp);
}

static bool mana_get_rxgen(Object *obj, Error **errp)
{
    return MANA(obj)->core.gen.running;
}

static void mana_set_rxgen(Object *obj, bool value, Error **errp)
{
    mana_core_rxgen_set(&MANA(obj)->core, value);
}

static void mana_get_clamp(Object *obj, Visitor *v, const char *name,
                           void *opaque, Error **errp)
{
    ManaCore *c = &MANA(obj)->core;
    uint32_t mbps = c->clamp_enabled ? c->clamp_mbps : 0;

    visit_type_uint32(v, name, &mbps, errp);
}

static void mana_set_clamp(Object *obj, Visitor *v, const char *name,
                           void *opaque, Error **errp)
{
    ManaCore *c = &MANA(obj)->core;
    uint32_t mbps;

    if (!visit_type_uint32(v, name, &mbps, errp)) {
        return;
    }
    if (mbps > c->max_speed_mbps) {
        error_setg(errp, "clamp-mbps must not exceed max-speed-mbps (%u)",
                   c->max_speed_mbps);
        return;
    }
    mana_core_set_clamp(c, mbps);
}

static char *mana_get_stats(Object *obj, Error **errp)
{
    return mana_core_stats(&MANA(obj)->core);
}

#define RT_U32(n, f, lo, hi, d) \
    { n, false, offsetof(ManaState, core.f), lo, hi, d }
#define RT_BOOL(n, f, d) { n, true, offsetof(ManaState, core.f), 0, 1, d }

static const ManaRtProp mana_rt_props[] = {
    RT_U32("fault-hwc-code", faults.hwc_code, 0, UINT32_MAX,
           "HWC message code to fail (0: none)"),
    RT_U32("fault-hwc-status", faults.hwc_status, 0, UINT32_MAX,
           "status returned for fault-hwc-code"),
    RT_BOOL("fault-hwc-drop", faults.hwc_drop,
            "drop the response to fault-hwc-code instead"),
    RT_U32("fault-hwc-count", faults.hwc_count, 0, UINT32_MAX,
           "how many times to apply the HWC fault (0: until cleared)"),
    RT_U32("fault-rx-len-excess", faults.rx_len_excess, 0, UINT32_MAX,
           "report the next N RX completions longer than the buffer"),
    RT_U32("fault-delay-ms", faults.delay_ms, 0, MANA_MAX_DELAY_MS,
           "delay TX and HWC completions by this many ms (0..120000)"),
    RT_BOOL("qos-unconfigured", qos_unconfigured,
            "report that the host has no QoS configured for the vPort"),
    RT_BOOL("clamp-lost-on-teardown", clamp_lost_on_teardown,
            "forget the clamp when the HWC is destroyed (a host that "
            "resets the VF across a suspend)"),
    RT_U32("rxgen-size", gen.size, 64, MANA_GEN_MAX_FRAME,
           "RX generator frame size (64..9216)"),
    RT_U32("rxgen-flows", gen.flows, 1, 65536,
           "RX generator UDP flow count (1..65536)"),
    RT_U32("rxgen-src-ip", gen.src_ip, 0, UINT32_MAX,
           "RX generator IPv4 source"),
    RT_U32("rxgen-dst-ip", gen.dst_ip, 0, UINT32_MAX,
           "RX generator IPv4 destination"),
    RT_U32("rxgen-dst-port", gen.dst_port, 0, 65535,
           "RX generator UDP port"),
    RT_U32("rxgen-rate", gen.rate, 0, UINT32_MAX,
           "RX generator frames per second (0: as fast as the RQs take them)"),
    RT_U32("rxgen-duration-ms", gen.duration_ms, 0, UINT32_MAX,
           "RX generator: stop after this many ms (0: when rxgen is unset)"),
};

static void mana_instance_init(Object *obj)
{
    ManaState *s = MANA(obj);

    s->core.gen.size = 1514;
    s->core.gen.flows = 1;
    s->core.gen.src_ip = 0xc0a86401;       /* 192.168.100.1 */
    s->core.gen.dst_ip = 0xc0a86402;       /* 192.168.100.2 */
    s->core.gen.dst_port = 9;
    s->core.faults.hwc_count = 1;
}

static void mana_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);
    size_t i;

    k->realize = mana_realize;
    k->exit = mana_exit;
    k->vendor_id = MANA_VENDOR_ID;
    k->device_id = MANA_DEVICE_ID_VF;
    k->revision = 1;
    k->class_id = PCI_CLASS_NETWORK_ETHERNET;
    dc->desc = "Microsoft Azure Network Adapter (MANA) VF";
    rc->phases.enter = mana_reset_enter;
    rc->phases.exit = mana_reset_exit;
    dc->vmsd = &mana_vmstate;
    device_class_set_props(dc, mana_properties);
    set_bit(DEVICE_CATEGORY_NETWORK, dc->categories);

    for (i = 0; i < ARRAY_SIZE(mana_rt_props); i++) {
        const ManaRtProp *p = &mana_rt_props[i];

        if (p->is_bool) {
            object_class_property_add(klass, p->name, "bool",
                                      mana_rt_visit_bool, mana_rt_visit_bool,
                                      NULL, (void *)p);
        } else {
            object_class_property_add(klass, p->name, "uint32",
                                      mana_rt_get_u32, mana_rt_set_u32,
                                      NULL, (void *)p);
        }
        object_class_property_set_description(klass, p->name, p->desc);
    }
    object_class_property_add_bool(klass, "rxgen", mana_get_rxgen,
                                   mana_set_rxgen);
    object_class_property_set_description(klass, "rxgen",
                                          "RX generator running");
    object_class_property_add(klass, "clamp-mbps", "uint32", mana_get_clamp,
                              mana_set_clamp, NULL, NULL);
    object_class_property_set_description(klass, "clamp-mbps",
                                          "TX clamp in force, Mbps (0: none)");
    object_class_property_add_str(klass, "stats", mana_get_stats, NULL);
    object_class_property_set_description(klass, "stats",
                                          "device and per-queue counters");
}

static const TypeInfo mana_info = {
    .name = TYPE_MANA,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(ManaState),
    .class_init = mana_class_init,
    .instance_init = mana_instance_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_PCIE_DEVICE },
        { }
    },
};

static void mana_register_types(void)
{
    type_register_static(&mana_info);
}

type_init(mana_register_types)
