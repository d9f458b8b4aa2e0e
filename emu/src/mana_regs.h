/*
 * Microsoft Azure Network Adapter (MANA) emulation: what the device
 * shows a driver -- BAR0 layout, doorbells, SMC and HWC messages, event,
 * completion and queue types (see shared/facts/mana-device.md). The
 * device model and its qtest both use them.
 *
 * Copyright (c) 2025 The MANA emulation authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_NET_MANA_REGS_H
#define HW_NET_MANA_REGS_H

/* BAR0 layout */
#define MANA_BAR0_SIZE              0x4000
#define MANA_REG_DB_ZONE            0x08
#define MANA_REG_DB_PAGE_SIZE       0x10
#define MANA_REG_SMC_OFFSET         0x18
#define MANA_REG_SMC_SIZE           0x20
#define MANA_SMC_OFFSET             0x100
#define MANA_SMC_SIZE               0x20
#define MANA_DB_ZONE_OFFSET         0x1000
#define MANA_DB_PAGE_SIZE           0x1000
#define MANA_DB_PAGES               1

/* Doorbell offsets inside a doorbell page */
#define MANA_DB_SQ                  0x000
#define MANA_DB_RQ                  0x400
#define MANA_DB_CQ                  0x800
#define MANA_DB_EQ                  0xff8

/* SMC protocol */
#define SMC_MSG_ESTABLISH_HWC       1
#define SMC_MSG_DESTROY_HWC         2
#define SMC_DIR_RESPONSE            (1u << 7)
#define SMC_OWNER_IS_PF             (1u << 31)

/* EQE types */
#define EQE_COMPLETION              3
#define EQE_TEST_EVENT              64
#define EQE_HWC_INIT_EQ_ID_DB       129
#define EQE_HWC_INIT_DATA           130
#define EQE_HWC_INIT_DONE           131

/* HWC_INIT_DATA types */
#define HWC_DATA_CQID               1
#define HWC_DATA_RQID               2
#define HWC_DATA_SQID               3
#define HWC_DATA_QUEUE_DEPTH        4
#define HWC_DATA_MAX_REQUEST        5
#define HWC_DATA_MAX_RESPONSE       6
#define HWC_DATA_MAX_NUM_CQS        7
#define HWC_DATA_PDID               8
#define HWC_DATA_GPA_MKEY           9

/* GDMA messages */
#define GDMA_VERIFY_VF_DRIVER_VERSION   1
#define GDMA_QUERY_MAX_RESOURCES        2
#define GDMA_LIST_DEVICES               3
#define GDMA_REGISTER_DEVICE            4
#define GDMA_DEREGISTER_DEVICE          5
#define GDMA_GENERATE_TEST_EQE          10
#define GDMA_CREATE_QUEUE               12
#define GDMA_DISABLE_QUEUE              13
#define GDMA_CREATE_DMA_REGION          25
#define GDMA_DESTROY_DMA_REGION         27
#define GDMA_QUERY_HWC_TIMEOUT          84

/* MANA messages */
#define MANA_QUERY_DEV_CONFIG           0x20001
#define MANA_QUERY_GF_STAT              0x20002
#define MANA_CONFIG_VPORT_TX            0x20003
#define MANA_CREATE_WQ_OBJ              0x20004
#define MANA_DESTROY_WQ_OBJ             0x20005
#define MANA_FENCE_RQ                   0x20006
#define MANA_CONFIG_VPORT_RX            0x20007
#define MANA_QUERY_VPORT_CONFIG         0x20008
#define MANA_QUERY_LINK_CONFIG          0x2000A
#define MANA_SET_BW_CLAMP               0x2000B

#define GDMA_STATUS_OK                  0
#define GDMA_STATUS_INVALID             1
#define GDMA_STATUS_CMD_UNSUPPORTED     0xffffffffu

#define GDMA_EQ_TYPE                    4
#define GDMA_WQ_SQ                      1
#define GDMA_WQ_RQ                      2

#define MANA_PDID                       1
#define MANA_GPA_MKEY                   0x100
#define MANA_VPORT_HANDLE               0x4d414e4100000001ull

/* CQE types */
#define CQE_RX_OKAY                     1
#define CQE_RX_OBJECT_FENCE             3
#define CQE_RX_TRUNCATED                4
#define CQE_TX_OKAY                     32
#define CQE_TX_SA_DROP                  33
#define CQE_TX_MTU_DROP                 34
#define CQE_TX_INVALID_OOB              35
#define CQE_TX_INVALID_ETH_TYPE         36
#define CQE_TX_HDR_PROCESSING_ERROR     37
#define CQE_TX_VF_DISABLED              38
#define CQE_TX_VPORT_IDX_OUT_OF_RANGE   39
#define CQE_TX_VPORT_DISABLED           40
#define CQE_TX_VLAN_TAGGING_VIOLATION   41
#define MANA_CQE_CLIENT                 1

#endif
