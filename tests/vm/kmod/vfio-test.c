/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfio-test: open a siov_mdev mdev through the VFIO group/container API and
 * check the device model documented in kernel-module/README.md.
 *
 *   vfio-test check UUID KIND WQ POOL SLOTS
 *       KIND is dwq or swq; WQ, POOL, SLOTS are the values BAR0 must show.
 *       Prints "ok NAME" or "not ok NAME: reason" per check (the guest
 *       script turns them into PASS/FAIL lines); exit 1 if any failed.
 *   vfio-test irq UUID
 *       The interrupt semantics only the mdev has (INTx, MSI enable,
 *       command register, the INTx unmask irqfd): "ok"/"not ok" lines.
 *   vfio-test irqcmp UUID|PCI-ADDRESS
 *       Device-independent SET_IRQS/GET_IRQ_INFO calls, "call NAME: ERRNO"
 *       lines, to compare an mdev with a vfio-pci device.
 *   vfio-test migrate SRC DST OTHER
 *       VFIO migration v2: save SRC, resume into DST (same type), refused
 *       streams (also into OTHER, an mdev whose type's migration_version
 *       differs: the other kind, or other swq_slots), invalid arcs.
 *   vfio-test hold UUID READYFILE [req|ignore]
 *       Open the device, create READYFILE, and keep the device open until
 *       killed. With "req", register a REQ eventfd and close the device
 *       (and exit 0) when the kernel asks for it back. With "ignore",
 *       register one, print "request N" each time the kernel asks, and
 *       keep the device anyway.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* The device model (kernel-module/README.md) */
#define SIOV_PCI_VENDOR         0x8086
#define SIOV_PCI_DEVICE         0x0b2f
#define SIOV_PCI_SUBSYS_VENDOR  0x8086
#define SIOV_PCI_SUBSYS_DEVICE  0x5349
#define SIOV_CFG_SIZE           256
#define SIOV_BAR0_SIZE          4096
#define SIOV_MSI_CAP            0x40

#define REG_VERSION             0x00
#define REG_CAP                 0x04
#define REG_WQ                  0x08
#define REG_POOL                0x0c
#define REG_CMD                 0x10
#define REG_STATUS              0x14
#define REG_SCRATCH             0x18
#define REG_IRQ_COUNT           0x1c
#define CMD_NOP                 0x00
#define CMD_RAISE_IRQ           0x01
#define CMD_RESET               0x02
#define STS_DONE                0x80000000u
#define RES_OK                  0x00
#define RES_BAD_CMD             0x01
#define RES_IRQ_PENDING         0x02
#define RES_NO_IRQ              0x03

static int n_ok, n_fail;
static int dev_fd = -1;
static uint64_t cfg_off, bar0_off;

static void result(bool ok, const char *name, const char *fmt, ...)
{
        va_list ap;

        if (ok) {
                printf("ok %s\n", name);
                n_ok++;
        } else {
                printf("not ok %s: ", name);
                va_start(ap, fmt);
                vprintf(fmt, ap);
                va_end(ap);
                printf("\n");
                n_fail++;
        }
        fflush(stdout);
}

#define CHECK_EQ(name, want, got) do {                                          \
                uint64_t _w = (want), _g = (got);                               \
                result(_w == _g, name, "expected 0x%" PRIx64 ", got 0x%" PRIx64, _w, _g); \
        } while (0)

static uint32_t rd(uint64_t base, unsigned int off, unsigned int size)
{
        uint32_t v = 0;

        if (pread(dev_fd, &v, size, base + off) != (ssize_t) size) {
                printf("# pread(%u bytes at 0x%x) failed: %m\n", size, off);
                return 0xdeadf00d;
        }
        return v;       /* x86: little-endian like the device */
}

static bool wr(uint64_t base, unsigned int off, unsigned int size, uint32_t v)
{
        if (pwrite(dev_fd, &v, size, base + off) != (ssize_t) size) {
                printf("# pwrite(%u bytes at 0x%x) failed: %m\n", size, off);
                return false;
        }
        return true;
}

/* Wait up to ms for the eventfd; returns its counter (0 = not signalled). */
static uint64_t wait_efd(int efd, int ms)
{
        struct pollfd p = { .fd = efd, .events = POLLIN };
        uint64_t v = 0;

        if (poll(&p, 1, ms) != 1)
                return 0;
        if (read(efd, &v, sizeof(v)) != sizeof(v))
                return 0;
        return v;
}

static int set_irq_eventfd(unsigned int index, int efd)
{
        char buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
        struct vfio_irq_set *s = (struct vfio_irq_set *) buf;
        int32_t fd = efd;

        memset(buf, 0, sizeof(buf));
        s->argsz = sizeof(buf);
        s->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
        s->index = index;
        s->start = 0;
        s->count = 1;
        memcpy(s->data, &fd, sizeof(fd));
        return ioctl(dev_fd, VFIO_DEVICE_SET_IRQS, s);
}

static int set_irq_none(unsigned int index, uint32_t action, uint32_t count)
{
        struct vfio_irq_set s = {
                .argsz = sizeof(s),
                .flags = VFIO_IRQ_SET_DATA_NONE | action,
                .index = index,
                .start = 0,
                .count = count,
        };

        return ioctl(dev_fd, VFIO_DEVICE_SET_IRQS, &s);
}

/* Open container, group and device; returns 0 or a negative errno. */
static int open_device(const char *uuid, bool report)
{
        char link[PATH_MAX], target[PATH_MAX], gpath[64];
        struct vfio_group_status gs = { .argsz = sizeof(gs) };
        int container, group, api;
        ssize_t n;

        container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
        if (report)
                result(container >= 0, "vfio: open /dev/vfio/vfio", "%m");
        if (container < 0)
                return -errno;
        api = ioctl(container, VFIO_GET_API_VERSION);
        if (report)
                CHECK_EQ("vfio: VFIO_GET_API_VERSION", VFIO_API_VERSION, api);
        if (report)
                result(ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0,
                       "vfio: container supports TYPE1v2", "VFIO_CHECK_EXTENSION: no");

        /* an mdev UUID, or a PCI address (0000:01:00.1) bound to vfio-pci */
        snprintf(link, sizeof(link), "/sys/bus/%s/devices/%s/iommu_group",
                 strlen(uuid) == 36 ? "mdev" : "pci", uuid);
        n = readlink(link, target, sizeof(target) - 1);
        if (report)
                result(n > 0, "vfio: mdev has an iommu_group", "readlink %s: %m", link);
        if (n <= 0)
                return -errno;
        target[n] = '\0';
        snprintf(gpath, sizeof(gpath), "/dev/vfio/%s", basename(target));
        group = open(gpath, O_RDWR | O_CLOEXEC);
        if (report)
                result(group >= 0, "vfio: open group node", "open %s: %m", gpath);
        if (group < 0)
                return -errno;
        if (ioctl(group, VFIO_GROUP_GET_STATUS, &gs) < 0)
                gs.flags = 0;
        if (report)
                result(gs.flags & VFIO_GROUP_FLAGS_VIABLE, "vfio: group is viable",
                       "flags 0x%x", gs.flags);
        if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) < 0) {
                if (report)
                        result(false, "vfio: VFIO_GROUP_SET_CONTAINER", "%m");
                return -errno;
        }
        if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0) {
                if (report)
                        result(false, "vfio: VFIO_SET_IOMMU TYPE1v2", "%m");
                return -errno;
        }
        dev_fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, uuid);
        if (report)
                result(dev_fd >= 0, "vfio: VFIO_GROUP_GET_DEVICE_FD", "%m");
        if (dev_fd < 0)
                return -errno;
        return 0;
}

static int do_check(const char *uuid, const char *kind, unsigned int want_wq,
                    unsigned int want_pool, unsigned int want_slots)
{
        struct vfio_device_info info = { .argsz = sizeof(info) };
        struct vfio_region_info ri;
        struct vfio_irq_info ii;
        uint32_t v, cap_kind = !strcmp(kind, "swq") ? 2 : 1;
        int efd, efd2, r;
        unsigned int i;

        if (open_device(uuid, true) < 0)
                goto out;

        /* --- GET_INFO --- */
        r = ioctl(dev_fd, VFIO_DEVICE_GET_INFO, &info);
        result(r == 0, "vfio: VFIO_DEVICE_GET_INFO", "%m");
        CHECK_EQ("vfio: info flags PCI|RESET", VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET,
                 info.flags & (VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET));
        CHECK_EQ("vfio: info num_regions", VFIO_PCI_NUM_REGIONS, info.num_regions);
        CHECK_EQ("vfio: info num_irqs", VFIO_PCI_NUM_IRQS, info.num_irqs);

        /* --- REGION_INFO --- */
        memset(&ri, 0, sizeof(ri));
        ri.argsz = sizeof(ri);
        ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
        r = ioctl(dev_fd, VFIO_DEVICE_GET_REGION_INFO, &ri);
        result(r == 0 && ri.size == SIOV_CFG_SIZE &&
               ri.flags == (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE),
               "vfio: config region info", "r=%d size=%llu flags=0x%x", r,
               (unsigned long long) ri.size, ri.flags);
        cfg_off = ri.offset;
        memset(&ri, 0, sizeof(ri));
        ri.argsz = sizeof(ri);
        ri.index = VFIO_PCI_BAR0_REGION_INDEX;
        r = ioctl(dev_fd, VFIO_DEVICE_GET_REGION_INFO, &ri);
        result(r == 0 && ri.size == SIOV_BAR0_SIZE &&
               ri.flags == (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE),
               "vfio: BAR0 region info", "r=%d size=%llu flags=0x%x", r,
               (unsigned long long) ri.size, ri.flags);
        bar0_off = ri.offset;
        result(bar0_off != cfg_off, "vfio: BAR0 and config at different offsets", "both 0x%llx",
               (unsigned long long) cfg_off);
        for (i = VFIO_PCI_BAR1_REGION_INDEX; i < VFIO_PCI_NUM_REGIONS; i++) {
                if (i == VFIO_PCI_CONFIG_REGION_INDEX)
                        continue;
                memset(&ri, 0, sizeof(ri));
                ri.argsz = sizeof(ri);
                ri.index = i;
                r = ioctl(dev_fd, VFIO_DEVICE_GET_REGION_INFO, &ri);
                if (r || ri.size) {
                        result(false, "vfio: other regions are empty", "index %u r=%d size=%llu",
                               i, r, (unsigned long long) ri.size);
                        break;
                }
        }
        if (i == VFIO_PCI_NUM_REGIONS)
                result(true, "vfio: other regions are empty", NULL);
        memset(&ri, 0, sizeof(ri));
        ri.argsz = sizeof(ri);
        ri.index = VFIO_PCI_NUM_REGIONS;
        r = ioctl(dev_fd, VFIO_DEVICE_GET_REGION_INFO, &ri);
        result(r < 0 && errno == EINVAL, "vfio: region index out of range is EINVAL",
               "r=%d errno=%d", r, errno);

        /* --- config space --- */
        CHECK_EQ("vfio: config vendor ID", SIOV_PCI_VENDOR, rd(cfg_off, PCI_VENDOR_ID, 2));
        CHECK_EQ("vfio: config device ID", SIOV_PCI_DEVICE, rd(cfg_off, PCI_DEVICE_ID, 2));
        CHECK_EQ("vfio: config class code 0x088000", 0x088000, rd(cfg_off, PCI_CLASS_REVISION, 4) >> 8);
        CHECK_EQ("vfio: config subsystem vendor", SIOV_PCI_SUBSYS_VENDOR,
                 rd(cfg_off, PCI_SUBSYSTEM_VENDOR_ID, 2));
        CHECK_EQ("vfio: config subsystem ID", SIOV_PCI_SUBSYS_DEVICE, rd(cfg_off, PCI_SUBSYSTEM_ID, 2));
        CHECK_EQ("vfio: config header type 0", 0, rd(cfg_off, PCI_HEADER_TYPE, 1));
        CHECK_EQ("vfio: config interrupt pin INTA", 1, rd(cfg_off, PCI_INTERRUPT_PIN, 1));
        CHECK_EQ("vfio: config status has capability list", PCI_STATUS_CAP_LIST,
                 rd(cfg_off, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
        CHECK_EQ("vfio: config capability pointer", SIOV_MSI_CAP, rd(cfg_off, PCI_CAPABILITY_LIST, 1));
        CHECK_EQ("vfio: config MSI capability, 64-bit", PCI_CAP_ID_MSI | (PCI_MSI_FLAGS_64BIT << 16),
                 rd(cfg_off, SIOV_MSI_CAP, 4) & 0x00ff00ff);
        CHECK_EQ("vfio: whole config space readable in one read", 1,
                 ({ char b[SIOV_CFG_SIZE]; pread(dev_fd, b, sizeof(b), cfg_off) == sizeof(b); }));
        wr(cfg_off, PCI_COMMAND, 2, 0xffff);
        CHECK_EQ("vfio: command register keeps only emulated bits",
                 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE,
                 rd(cfg_off, PCI_COMMAND, 2));
        wr(cfg_off, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
        CHECK_EQ("vfio: vendor ID is read-only", SIOV_PCI_VENDOR,
                 (wr(cfg_off, PCI_VENDOR_ID, 2, 0x1234), rd(cfg_off, PCI_VENDOR_ID, 2)));
        result(pread(dev_fd, &v, 4, cfg_off + SIOV_CFG_SIZE) < 0, "vfio: read past config space fails",
               "succeeded");

        /* --- BAR sizing --- */
        CHECK_EQ("vfio: BAR0 is 32-bit non-prefetchable memory", 0,
                 rd(cfg_off, PCI_BASE_ADDRESS_0, 4) & 0xf);
        wr(cfg_off, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
        v = rd(cfg_off, PCI_BASE_ADDRESS_0, 4);
        CHECK_EQ("vfio: BAR0 sizing reads back ~(4096-1)", ~(uint32_t) (SIOV_BAR0_SIZE - 1), v);
        CHECK_EQ("vfio: BAR0 size from sizing is 4096", SIOV_BAR0_SIZE, ~(v & ~0xfu) + 1);
        wr(cfg_off, PCI_BASE_ADDRESS_0, 4, 0xfebf1234);
        CHECK_EQ("vfio: BAR0 address keeps bits 31:12", 0xfebf1000, rd(cfg_off, PCI_BASE_ADDRESS_0, 4));
        wr(cfg_off, PCI_BASE_ADDRESS_1, 4, 0xffffffff);
        CHECK_EQ("vfio: unimplemented BAR1 sizes to 0", 0, rd(cfg_off, PCI_BASE_ADDRESS_1, 4));
        wr(cfg_off, PCI_ROM_ADDRESS, 4, 0xffffffff);
        CHECK_EQ("vfio: no expansion ROM", 0, rd(cfg_off, PCI_ROM_ADDRESS, 4));

        /* --- BAR0 registers --- */
        CHECK_EQ("vfio: BAR0 VERSION", 0x00010000, rd(bar0_off, REG_VERSION, 4));
        v = rd(bar0_off, REG_CAP, 4);
        CHECK_EQ("vfio: BAR0 CAP kind", cap_kind, v & 0xff);
        CHECK_EQ("vfio: BAR0 CAP slots per shared WQ", want_slots, (v >> 8) & 0xff);
        CHECK_EQ("vfio: BAR0 CAP INTx and MSI", 3, (v >> 16) & 3);
        CHECK_EQ("vfio: BAR0 WQ is the owned work queue", want_wq, rd(bar0_off, REG_WQ, 4));
        CHECK_EQ("vfio: BAR0 POOL size", want_pool, rd(bar0_off, REG_POOL, 4));
        CHECK_EQ("vfio: BAR0 STATUS 0 after open", 0, rd(bar0_off, REG_STATUS, 4));
        wr(bar0_off, REG_SCRATCH, 4, 0xdeadbeef);
        CHECK_EQ("vfio: BAR0 scratch write/read", 0xdeadbeef, rd(bar0_off, REG_SCRATCH, 4));
        wr(bar0_off, REG_SCRATCH + 1, 1, 0x5a);
        CHECK_EQ("vfio: BAR0 scratch byte write", 0xdead5aef, rd(bar0_off, REG_SCRATCH, 4));
        CHECK_EQ("vfio: BAR0 scratch 16-bit read", 0xdead, rd(bar0_off, REG_SCRATCH + 2, 2));
        wr(bar0_off, REG_VERSION, 4, 0);
        CHECK_EQ("vfio: BAR0 VERSION is read-only", 0x00010000, rd(bar0_off, REG_VERSION, 4));
        wr(bar0_off, REG_CMD, 4, CMD_NOP);
        CHECK_EQ("vfio: BAR0 NOP command completes", STS_DONE | (RES_OK << 8) | CMD_NOP,
                 rd(bar0_off, REG_STATUS, 4));
        wr(bar0_off, REG_CMD, 4, 0x77);
        CHECK_EQ("vfio: BAR0 unknown command reports BAD_CMD", STS_DONE | (RES_BAD_CMD << 8) | 0x77,
                 rd(bar0_off, REG_STATUS, 4));
        wr(bar0_off, REG_CMD, 4, CMD_RAISE_IRQ);
        CHECK_EQ("vfio: BAR0 RAISE_IRQ without eventfd reports NO_IRQ",
                 STS_DONE | (RES_NO_IRQ << 8) | CMD_RAISE_IRQ, rd(bar0_off, REG_STATUS, 4));
        result(pread(dev_fd, &v, 4, bar0_off + SIOV_BAR0_SIZE) < 0, "vfio: read past BAR0 fails",
               "succeeded");

        /* --- IRQ_INFO --- */
        memset(&ii, 0, sizeof(ii));
        ii.argsz = sizeof(ii);
        ii.index = VFIO_PCI_INTX_IRQ_INDEX;
        r = ioctl(dev_fd, VFIO_DEVICE_GET_IRQ_INFO, &ii);
        result(r == 0 && ii.count == 1 &&
               ii.flags == (VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED),
               "vfio: IRQ info INTx", "r=%d count=%u flags=0x%x", r, ii.count, ii.flags);
        ii.index = VFIO_PCI_MSI_IRQ_INDEX;
        r = ioctl(dev_fd, VFIO_DEVICE_GET_IRQ_INFO, &ii);
        result(r == 0 && ii.count == 1 && (ii.flags & VFIO_IRQ_INFO_EVENTFD),
               "vfio: IRQ info MSI", "r=%d count=%u flags=0x%x", r, ii.count, ii.flags);
        ii.index = VFIO_PCI_MSIX_IRQ_INDEX;
        r = ioctl(dev_fd, VFIO_DEVICE_GET_IRQ_INFO, &ii);
        result(r == 0 && ii.count == 0, "vfio: IRQ info MSI-X has no vectors",
               "r=%d count=%u", r, ii.count);
        ii.index = VFIO_PCI_REQ_IRQ_INDEX;
        r = ioctl(dev_fd, VFIO_DEVICE_GET_IRQ_INFO, &ii);
        result(r == 0 && ii.count == 1, "vfio: IRQ info REQ", "r=%d count=%u", r, ii.count);

        /* --- SET_IRQS: MSI --- */
        ii.index = VFIO_PCI_ERR_IRQ_INDEX;
        r = ioctl(dev_fd, VFIO_DEVICE_GET_IRQ_INFO, &ii);
        result(r < 0 && errno == EINVAL, "vfio: IRQ info ERR is EINVAL (conventional PCI, as vfio-pci)",
               "r=%d errno=%d", r, errno);
        wr(cfg_off, SIOV_MSI_CAP + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
        efd = eventfd(0, EFD_CLOEXEC);
        r = set_irq_eventfd(VFIO_PCI_MSI_IRQ_INDEX, efd);
        result(r == 0, "vfio: SET_IRQS MSI eventfd", "%m");
        wr(bar0_off, REG_CMD, 4, CMD_RAISE_IRQ);
        CHECK_EQ("vfio: MSI delivered to the eventfd", 1, wait_efd(efd, 2000));
        CHECK_EQ("vfio: RAISE_IRQ status OK", STS_DONE | (RES_OK << 8) | CMD_RAISE_IRQ,
                 rd(bar0_off, REG_STATUS, 4));
        r = set_irq_none(VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 1);
        result(r == 0, "vfio: SET_IRQS MSI loopback trigger", "%m");
        CHECK_EQ("vfio: MSI loopback delivered", 1, wait_efd(efd, 2000));
        r = set_irq_none(VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0);
        result(r == 0, "vfio: SET_IRQS MSI disable", "%m");
        wr(bar0_off, REG_CMD, 4, CMD_RAISE_IRQ);
        CHECK_EQ("vfio: no MSI after disable", 0, wait_efd(efd, 300));

        /* --- SET_IRQS: INTx with automask --- */
        efd2 = eventfd(0, EFD_CLOEXEC);
        r = set_irq_eventfd(VFIO_PCI_INTX_IRQ_INDEX, efd2);
        result(r == 0, "vfio: SET_IRQS INTx eventfd", "%m");
        wr(bar0_off, REG_CMD, 4, CMD_RAISE_IRQ);
        CHECK_EQ("vfio: INTx delivered", 1, wait_efd(efd2, 2000));
        wr(bar0_off, REG_CMD, 4, CMD_RAISE_IRQ);
        CHECK_EQ("vfio: INTx auto-masked: second interrupt pending",
                 STS_DONE | (RES_IRQ_PENDING << 8) | CMD_RAISE_IRQ, rd(bar0_off, REG_STATUS, 4));
        CHECK_EQ("vfio: INTx not delivered while masked", 0, wait_efd(efd2, 300));
        r = set_irq_none(VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, 1);
        result(r == 0, "vfio: SET_IRQS INTx unmask", "%m");
        CHECK_EQ("vfio: pending INTx delivered on unmask", 1, wait_efd(efd2, 2000));
        CHECK_EQ("vfio: IRQ_COUNT counts delivered interrupts", 4, rd(bar0_off, REG_IRQ_COUNT, 4));
        r = set_irq_none(VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 1);
        result(r < 0 && errno == EINVAL, "vfio: SET_IRQS on MSI-X is EINVAL", "r=%d errno=%d", r, errno);
        r = set_irq_none(VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_MASK, 1);
        result(r < 0 && errno == ENOTTY, "vfio: MSI cannot be masked (ENOTTY, as vfio-pci)",
               "r=%d errno=%d", r, errno);

        /* --- RESET --- */
        wr(bar0_off, REG_SCRATCH, 4, 0x12345678);
        r = ioctl(dev_fd, VFIO_DEVICE_RESET);
        result(r == 0, "vfio: VFIO_DEVICE_RESET", "%m");
        CHECK_EQ("vfio: reset clears scratch", 0, rd(bar0_off, REG_SCRATCH, 4));
        CHECK_EQ("vfio: reset clears STATUS", 0, rd(bar0_off, REG_STATUS, 4));
        CHECK_EQ("vfio: reset clears IRQ_COUNT", 0, rd(bar0_off, REG_IRQ_COUNT, 4));
        CHECK_EQ("vfio: reset clears BAR0 address", 0, rd(cfg_off, PCI_BASE_ADDRESS_0, 4));
        CHECK_EQ("vfio: reset clears command register", 0, rd(cfg_off, PCI_COMMAND, 2));
        CHECK_EQ("vfio: reset keeps the owned WQ", want_wq, rd(bar0_off, REG_WQ, 4));
        wr(bar0_off, REG_CMD, 4, CMD_RAISE_IRQ);
        CHECK_EQ("vfio: reset keeps the INTx eventfd", 1, wait_efd(efd2, 2000));
        wr(bar0_off, REG_SCRATCH, 4, 0x55aa55aa);
        wr(bar0_off, REG_CMD, 4, CMD_RESET);
        CHECK_EQ("vfio: RESET command clears scratch", 0, rd(bar0_off, REG_SCRATCH, 4));
        CHECK_EQ("vfio: RESET command status", STS_DONE | CMD_RESET, rd(bar0_off, REG_STATUS, 4));

        r = ioctl(dev_fd, VFIO_DEVICE_PCI_HOT_RESET, NULL);
        result(r < 0 && errno == ENOTTY, "vfio: unsupported ioctl is ENOTTY", "r=%d errno=%d", r, errno);

        close(efd);
        close(efd2);
        close(dev_fd);
out:
        printf("vfio-test: %d ok, %d not ok\n", n_ok, n_fail);
        return n_fail || !n_ok;
}

static int do_hold(const char *uuid, const char *ready, bool req, bool ignore)
{
        uint64_t n, total = 0;

        int efd = -1, r;

        r = open_device(uuid, false);
        if (r < 0) {
                fprintf(stderr, "vfio-test hold: cannot open %s: %s\n", uuid, strerror(-r));
                return 1;
        }
        if (req || ignore) {
                efd = eventfd(0, EFD_CLOEXEC);
                if (set_irq_eventfd(VFIO_PCI_REQ_IRQ_INDEX, efd) < 0) {
                        fprintf(stderr, "vfio-test hold: REQ eventfd: %m\n");
                        return 1;
                }
        }
        r = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (r < 0) {
                perror(ready);
                return 1;
        }
        close(r);
        if (ignore) {
                for (;;) {
                        n = wait_efd(efd, -1);
                        total += n;
                        printf("request %" PRIu64 "\n", total);
                        fflush(stdout);
                }
        }
        if (!req) {
                for (;;)
                        pause();
        }
        if (!wait_efd(efd, 600 * 1000)) {
                fprintf(stderr, "vfio-test hold: no request within 600 s\n");
                return 1;
        }
        printf("vfio-test hold: device request received, closing\n");
        fflush(stdout);
        close(dev_fd);
        return 0;
}

/* ---- SET_IRQS semantics (vfio-pci's) ------------------------------------ */

static const char *ename(int e)
{
        switch (e) {
        case 0: return "0";
        case EINVAL: return "EINVAL";
        case ENOTTY: return "ENOTTY";
        case EBUSY: return "EBUSY";
        case ENODEV: return "ENODEV";
        case EBADF: return "EBADF";
        case ENOSPC: return "ENOSPC";
        case EFBIG: return "EFBIG";
        case EOPNOTSUPP: return "EOPNOTSUPP";
        case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
        case ERANGE: return "ERANGE";
        default: {
                static char b[16];

                snprintf(b, sizeof(b), "E%d", e);
                return b;
        }
        }
}

/* One SET_IRQS; returns 0 or the errno. */
static int sirq(uint32_t index, uint32_t flags, uint32_t start, uint32_t count, const void *data,
                size_t dsize)
{
        char buf[sizeof(struct vfio_irq_set) + 16];
        struct vfio_irq_set *s = (struct vfio_irq_set *) buf;

        memset(buf, 0, sizeof(buf));
        s->argsz = sizeof(struct vfio_irq_set) + dsize;
        s->flags = flags;
        s->index = index;
        s->start = start;
        s->count = count;
        if (dsize)
                memcpy(s->data, data, dsize);
        return ioctl(dev_fd, VFIO_DEVICE_SET_IRQS, s) < 0 ? errno : 0;
}

static int sirq_fd(uint32_t index, uint32_t action, int32_t fd)
{
        return sirq(index, VFIO_IRQ_SET_DATA_EVENTFD | action, 0, 1, &fd, sizeof(fd));
}

static int sirq_bool(uint32_t index, uint32_t action, uint32_t count, uint8_t v)
{
        return sirq(index, VFIO_IRQ_SET_DATA_BOOL | action, 0, count, &v, count ? 1 : 0);
}

static int sirq_none(uint32_t index, uint32_t action, uint32_t count)
{
        return sirq(index, VFIO_IRQ_SET_DATA_NONE | action, 0, count, NULL, 0);
}

static int irq_info(uint32_t index, struct vfio_irq_info *ii)
{
        memset(ii, 0, sizeof(*ii));
        ii->argsz = sizeof(*ii);
        ii->index = index;
        return ioctl(dev_fd, VFIO_DEVICE_GET_IRQ_INFO, ii) < 0 ? errno : 0;
}

/* Non-blocking: how often the eventfd fired since the last call. */
static uint64_t drain(int efd)
{
        uint64_t v = 0;

        return read(efd, &v, sizeof(v)) == sizeof(v) ? v : 0;
}

#define TR (VFIO_IRQ_SET_ACTION_TRIGGER)

/*
 * vfio-test irqcmp DEVICE: the device-independent SET_IRQS/GET_IRQ_INFO
 * calls, one "call NAME: ERRNO[ sig=N]" line each, on an mdev (UUID) or a
 * vfio-pci device (PCI address); the guest compares the two outputs. The
 * message-signalled index is MSI when the device has MSI, else MSI-X.
 */
static int do_irqcmp(const char *name)
{
        struct vfio_irq_info ii;
        uint32_t mi, mcount;
        int efd, r;

        r = open_device(name, false);
        if (r < 0) {
                printf("not ok irqcmp: open %s: %s\n", name, strerror(-r));
                return 1;
        }
        efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        mi = VFIO_PCI_MSI_IRQ_INDEX;
        if (irq_info(mi, &ii) || !ii.count)
                mi = VFIO_PCI_MSIX_IRQ_INDEX;
        irq_info(mi, &ii);
        mcount = ii.count;
        printf("# message-signalled index %u, %u vectors\n", mi, mcount);

#define CALL(n, e) printf("call %s: %s\n", n, ename(e))
#define CALLSIG(n, e) do { int _e = (e); printf("call %s: %s sig=%" PRIu64 "\n", n, ename(_e), drain(efd)); } while (0)
        CALL("GET_IRQ_INFO index VFIO_PCI_NUM_IRQS", irq_info(VFIO_PCI_NUM_IRQS, &ii));
        r = irq_info(VFIO_PCI_REQ_IRQ_INDEX, &ii);
        printf("call GET_IRQ_INFO REQ: %s count=%u flags=0x%x\n", ename(r), ii.count, ii.flags);
        r = irq_info(mi, &ii);
        printf("call GET_IRQ_INFO MSI-type: %s flags=0x%x\n", ename(r), ii.flags);
        CALL("REQ TRIGGER DATA_NONE count 0, none armed", sirq_none(VFIO_PCI_REQ_IRQ_INDEX, TR, 0));
        CALL("REQ TRIGGER DATA_BOOL count 0", sirq_bool(VFIO_PCI_REQ_IRQ_INDEX, TR, 0, 1));
        CALL("REQ TRIGGER DATA_EVENTFD fd -2", sirq_fd(VFIO_PCI_REQ_IRQ_INDEX, TR, -2));
        CALL("REQ TRIGGER DATA_NONE count 0 after fd -2", sirq_none(VFIO_PCI_REQ_IRQ_INDEX, TR, 0));
        CALL("REQ TRIGGER DATA_EVENTFD", sirq_fd(VFIO_PCI_REQ_IRQ_INDEX, TR, efd));
        CALLSIG("REQ TRIGGER DATA_NONE count 1 (loopback)", sirq_none(VFIO_PCI_REQ_IRQ_INDEX, TR, 1));
        CALLSIG("REQ TRIGGER DATA_BOOL 1 (loopback)", sirq_bool(VFIO_PCI_REQ_IRQ_INDEX, TR, 1, 1));
        CALLSIG("REQ TRIGGER DATA_BOOL count 0, armed", sirq_bool(VFIO_PCI_REQ_IRQ_INDEX, TR, 0, 1));
        CALL("REQ TRIGGER DATA_EVENTFD fd -2, armed", sirq_fd(VFIO_PCI_REQ_IRQ_INDEX, TR, -2));
        CALLSIG("REQ loopback after fd -2 (still armed)", sirq_none(VFIO_PCI_REQ_IRQ_INDEX, TR, 1));
        CALL("REQ TRIGGER DATA_NONE count 0, armed (disarms)", sirq_none(VFIO_PCI_REQ_IRQ_INDEX, TR, 0));
        CALL("REQ TRIGGER DATA_NONE count 0, disarmed", sirq_none(VFIO_PCI_REQ_IRQ_INDEX, TR, 0));
        CALL("REQ MASK", sirq_none(VFIO_PCI_REQ_IRQ_INDEX, VFIO_IRQ_SET_ACTION_MASK, 1));
        CALL("REQ UNMASK", sirq_none(VFIO_PCI_REQ_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, 1));
        CALL("MSI-type TRIGGER DATA_BOOL count 0, not armed", sirq_bool(mi, TR, 0, 1));
        CALL("MSI-type TRIGGER DATA_NONE count 0, not armed", sirq_none(mi, TR, 0));
        CALL("MSI-type TRIGGER DATA_NONE count 1, not armed", sirq_none(mi, TR, 1));
        CALL("MSI-type MASK", sirq_none(mi, VFIO_IRQ_SET_ACTION_MASK, 1));
        CALL("MSI-type UNMASK", sirq_none(mi, VFIO_IRQ_SET_ACTION_UNMASK, 1));
        CALL("MSI-type MASK DATA_EVENTFD", sirq_fd(mi, VFIO_IRQ_SET_ACTION_MASK, efd));
        CALL("MSI-type TRIGGER DATA_EVENTFD fd -2 (arms, no trigger)", sirq_fd(mi, TR, -2));
        CALL("MSI-type TRIGGER DATA_BOOL count 0, armed", sirq_bool(mi, TR, 0, 1));
        CALL("MSI-type TRIGGER DATA_EVENTFD", sirq_fd(mi, TR, efd));
        CALLSIG("MSI-type TRIGGER DATA_BOOL 1 (loopback)", sirq_bool(mi, TR, 1, 1));
        CALLSIG("MSI-type TRIGGER DATA_BOOL 0", sirq_bool(mi, TR, 1, 0));
        CALLSIG("MSI-type TRIGGER DATA_NONE count 1 (loopback)", sirq_none(mi, TR, 1));
        CALL("MSI-type TRIGGER DATA_EVENTFD fd -1 (keeps it armed)", sirq_fd(mi, TR, -1));
        CALLSIG("MSI-type loopback after fd -1", sirq_none(mi, TR, 1));
        CALL("MSI-type TRIGGER DATA_NONE count 0, armed (disarms)", sirq_none(mi, TR, 0));
        CALL("MSI-type TRIGGER DATA_NONE count 0, disarmed", sirq_none(mi, TR, 0));
        CALL("MSI-type TRIGGER DATA_EVENTFD bad fd", sirq_fd(mi, TR, 999));
        CALL("MSI-type TRIGGER DATA_NONE count 0 after a bad fd", sirq_none(mi, TR, 0));
        CALL("SET_IRQS unknown flag bit", sirq(VFIO_PCI_REQ_IRQ_INDEX, TR | VFIO_IRQ_SET_DATA_NONE | (1u << 9),
                                                0, 1, NULL, 0));
        CALL("SET_IRQS two data types", sirq(VFIO_PCI_REQ_IRQ_INDEX,
                                              TR | VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL, 0, 1, NULL, 0));
        CALL("SET_IRQS index VFIO_PCI_NUM_IRQS", sirq_none(VFIO_PCI_NUM_IRQS, TR, 1));
        CALL("SET_IRQS MSI-type start beyond its vectors", sirq(mi, TR | VFIO_IRQ_SET_DATA_NONE, mcount, 1, NULL, 0));
        CALL("SET_IRQS DATA_EVENTFD argsz without the data", sirq(VFIO_PCI_REQ_IRQ_INDEX,
                                                                  TR | VFIO_IRQ_SET_DATA_EVENTFD, 0, 1, NULL, 0));
#undef CALL
#undef CALLSIG
        close(efd);
        close(dev_fd);
        return 0;
}

/* vfio-test irq UUID: what only the mdev has (INTx, MSI with config space) */
static int do_irq(const char *uuid)
{
        struct vfio_irq_info ii;
        int efd, efd2, efd3, r;
        uint16_t st;

        if (open_device(uuid, false) < 0) {
                printf("not ok irq: open: %m\n");
                return 1;
        }
        cfg_off = (uint64_t) VFIO_PCI_CONFIG_REGION_INDEX << 40;
        bar0_off = 0;
        efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        efd2 = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        efd3 = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

        r = irq_info(VFIO_PCI_ERR_IRQ_INDEX, &ii);
        CHECK_EQ("irq: GET_IRQ_INFO ERR is EINVAL (conventional PCI)", EINVAL, r);
        r = irq_info(VFIO_PCI_MSIX_IRQ_INDEX, &ii);
        CHECK_EQ("irq: GET_IRQ_INFO MSI-X: 0 vectors, EVENTFD|NORESIZE", VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE,
                 r || ii.count ? 0xbad : ii.flags);
        CHECK_EQ("irq: INTx TRIGGER DATA_NONE count 0 when not armed is EINVAL", EINVAL,
                 sirq_none(VFIO_PCI_INTX_IRQ_INDEX, TR, 0));
        CHECK_EQ("irq: INTx UNMASK when not armed is EINVAL", EINVAL,
                 sirq_none(VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, 1));

        /* one type at a time */
        CHECK_EQ("irq: arm INTx", 0, sirq_fd(VFIO_PCI_INTX_IRQ_INDEX, TR, efd));
        CHECK_EQ("irq: arming MSI while INTx is armed is EINVAL", EINVAL, sirq_fd(VFIO_PCI_MSI_IRQ_INDEX, TR, efd2));
        CHECK_EQ("irq: INTx TRIGGER DATA_BOOL count 0 is EINVAL (count must be 1)", EINVAL,
                 sirq_bool(VFIO_PCI_INTX_IRQ_INDEX, TR, 0, 1));
        CHECK_EQ("irq: INTx MASK DATA_EVENTFD is ENOTTY", ENOTTY,
                 sirq_fd(VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_MASK, efd3));

        /* command register INTx disable */
        wr(cfg_off, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
        wr(bar0_off, REG_CMD, 4, CMD_RAISE_IRQ);
        CHECK_EQ("irq: INTx disabled in the command register: interrupt pending",
                 STS_DONE | (RES_IRQ_PENDING << 8) | CMD_RAISE_IRQ, rd(bar0_off, REG_STATUS, 4));
        usleep(200000);
        CHECK_EQ("irq: nothing signalled while INTx is disabled", 0, drain(efd));
        st = rd(cfg_off, PCI_STATUS, 2);
        CHECK_EQ("irq: config status shows the pending interrupt", PCI_STATUS_INTERRUPT, st & PCI_STATUS_INTERRUPT);
        wr(cfg_off, PCI_COMMAND, 2, 0);
        CHECK_EQ("irq: clearing INTx disable delivers it", 1, wait_efd(efd, 2000));
        CHECK_EQ("irq: config status interrupt bit clear after delivery", 0,
                 rd(cfg_off, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);

        /* the resample irqfd: UNMASK with DATA_EVENTFD */
        CHECK_EQ("irq: INTx UNMASK DATA_EVENTFD (resample irqfd)", 0,
                 sirq_fd(VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, efd3));
        CHECK_EQ("irq: a second unmask irqfd is EBUSY (as vfio-pci)", EBUSY,
                 sirq_fd(VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, efd3));
        wr(bar0_off, REG_CMD, 4, CMD_RAISE_IRQ);
        CHECK_EQ("irq: INTx still masked from the last delivery: pending",
                 STS_DONE | (RES_IRQ_PENDING << 8) | CMD_RAISE_IRQ, rd(bar0_off, REG_STATUS, 4));
        {
                uint64_t one = 1;

                if (write(efd3, &one, sizeof(one)) != sizeof(one))
                        printf("# write to the unmask eventfd failed: %m\n");
        }
        CHECK_EQ("irq: signalling the unmask irqfd delivers the pending INTx", 1, wait_efd(efd, 2000));
        CHECK_EQ("irq: INTx UNMASK DATA_EVENTFD fd -1 removes the irqfd", 0,
                 sirq_fd(VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, -1));
        CHECK_EQ("irq: INTx TRIGGER DATA_EVENTFD fd -2 keeps INTx armed (vfio-pci)", 0,
                 sirq_fd(VFIO_PCI_INTX_IRQ_INDEX, TR, -2));
        CHECK_EQ("irq: ... so MSI is still EINVAL", EINVAL, sirq_fd(VFIO_PCI_MSI_IRQ_INDEX, TR, efd2));
        CHECK_EQ("irq: disarm INTx (DATA_NONE count 0)", 0, sirq_none(VFIO_PCI_INTX_IRQ_INDEX, TR, 0));

        /* MSI and the MSI enable bit */
        CHECK_EQ("irq: arm MSI", 0, sirq_fd(VFIO_PCI_MSI_IRQ_INDEX, TR, efd2));
        CHECK_EQ("irq: arming INTx while MSI is armed is EINVAL", EINVAL, sirq_fd(VFIO_PCI_INTX_IRQ_INDEX, TR, efd));
        wr(cfg_off, SIOV_MSI_CAP + PCI_MSI_FLAGS, 2, 0);
        wr(bar0_off, REG_CMD, 4, CMD_RAISE_IRQ);
        CHECK_EQ("irq: MSI disabled in its capability: no interrupt",
                 STS_DONE | (RES_NO_IRQ << 8) | CMD_RAISE_IRQ, rd(bar0_off, REG_STATUS, 4));
        usleep(200000);
        CHECK_EQ("irq: nothing signalled while MSI is disabled", 0, drain(efd2));
        wr(cfg_off, SIOV_MSI_CAP + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
        wr(bar0_off, REG_CMD, 4, CMD_RAISE_IRQ);
        CHECK_EQ("irq: MSI enabled: delivered", 1, wait_efd(efd2, 2000));
        CHECK_EQ("irq: MSI TRIGGER DATA_BOOL count 0 does nothing", 0, sirq_bool(VFIO_PCI_MSI_IRQ_INDEX, TR, 0, 1));
        usleep(100000);
        CHECK_EQ("irq: ... and signals nothing", 0, drain(efd2));
        wr(bar0_off, REG_CMD, 4, CMD_RAISE_IRQ);
        CHECK_EQ("irq: ... and MSI stays armed", 1, wait_efd(efd2, 2000));
        CHECK_EQ("irq: disarm MSI", 0, sirq_none(VFIO_PCI_MSI_IRQ_INDEX, TR, 0));
        wr(bar0_off, REG_CMD, 4, CMD_RAISE_IRQ);
        CHECK_EQ("irq: nothing armed: no interrupt", STS_DONE | (RES_NO_IRQ << 8) | CMD_RAISE_IRQ,
                 rd(bar0_off, REG_STATUS, 4));
        CHECK_EQ("irq: INTx can be armed again", 0, sirq_fd(VFIO_PCI_INTX_IRQ_INDEX, TR, efd));
        close(efd);
        close(efd2);
        close(efd3);
        close(dev_fd);
        printf("vfio-test: %d ok, %d not ok\n", n_ok, n_fail);
        return n_fail || !n_ok;
}

/* ---- migration v2 ------------------------------------------------------- */

#define MIG_SIZE        (32 + 256 + 16)

/* VFIO_DEVICE_FEATURE on dev_fd; returns 0 or the errno. */
static int feature(uint32_t flags, void *data, size_t size)
{
        char buf[sizeof(struct vfio_device_feature) + 16];
        struct vfio_device_feature *f = (struct vfio_device_feature *) buf;
        int r;

        memset(buf, 0, sizeof(buf));
        f->argsz = sizeof(*f) + size;
        f->flags = flags;
        memcpy(f->data, data, size);
        r = ioctl(dev_fd, VFIO_DEVICE_FEATURE, f);
        memcpy(data, f->data, size);
        return r < 0 ? errno : 0;
}

/* Set the state; *data_fd gets the new session's fd or -1. */
static int mig_set(uint32_t state, int *data_fd)
{
        struct vfio_device_feature_mig_state m = { .device_state = state, .data_fd = -1 };
        int r;

        r = feature(VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &m, sizeof(m));
        if (data_fd)
                *data_fd = r ? -1 : m.data_fd;
        else if (!r && m.data_fd >= 0)
                close(m.data_fd);
        return r;
}

static uint32_t mig_get(void)
{
        struct vfio_device_feature_mig_state m = { 0 };

        if (feature(VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &m, sizeof(m)))
                return 0xbad;
        return m.device_state;
}

/* Resume STREAM (len bytes) into the current device; returns the errno of
 * RESUMING -> STOP (0: loaded), or 1000 + errno of an earlier step.
 */
static int resume(const uint8_t *stream, size_t len, int *write_err)
{
        int fd, r;
        ssize_t n;

        *write_err = 0;
        r = mig_set(VFIO_DEVICE_STATE_RESUMING, &fd);
        if (r)
                return 1000 + r;
        n = write(fd, stream, len);
        if (n != (ssize_t) len)
                *write_err = n < 0 ? errno : -1;
        r = mig_set(VFIO_DEVICE_STATE_STOP, NULL);
        close(fd);
        return r;
}

/* Refused stream: the errno, then ERROR, arcs out of ERROR, reset. */
static void refused(const char *what, const uint8_t *stream, size_t len, int want)
{
        char name[160];
        int werr, r;

        r = resume(stream, len, &werr);
        snprintf(name, sizeof(name), "mig: %s refused with %s", what, ename(want));
        result(r == want, name, "got %s (write: %s)", r >= 1000 ? "early step failed" : ename(r), ename(werr));
        snprintf(name, sizeof(name), "mig: %s leaves the device in ERROR", what);
        CHECK_EQ(name, VFIO_DEVICE_STATE_ERROR, mig_get());
        snprintf(name, sizeof(name), "mig: %s: ERROR -> RUNNING is EINVAL", what);
        CHECK_EQ(name, EINVAL, mig_set(VFIO_DEVICE_STATE_RUNNING, NULL));
        snprintf(name, sizeof(name), "mig: %s: VFIO_DEVICE_RESET recovers to RUNNING", what);
        r = ioctl(dev_fd, VFIO_DEVICE_RESET);
        CHECK_EQ(name, VFIO_DEVICE_STATE_RUNNING, r ? 0xbad : mig_get());
}

/*
 * vfio-test migrate SRC DST OTHER: save SRC's state through STOP_COPY and
 * resume it into DST (same type, another parent); OTHER is an mdev of the
 * other type. Also the refused streams and the invalid arcs.
 */
static int do_migrate(const char *src, const char *dst, const char *other)
{
        struct vfio_device_feature_migration mf = { 0 };
        uint32_t src_cfg[64], dst_cfg[64], src_cap, v;
        uint8_t stream[MIG_SIZE + 64], bad[MIG_SIZE + 64];
        int src_fd, dst_fd, other_fd, efd, dfd, werr, r;
        ssize_t n, len = 0;

        cfg_off = (uint64_t) VFIO_PCI_CONFIG_REGION_INDEX << 40;
        bar0_off = 0;
        if (open_device(src, false) < 0 || (src_fd = dev_fd, open_device(dst, false) < 0) ||
            (dst_fd = dev_fd, open_device(other, false) < 0)) {
                printf("not ok mig: open the three devices: %m\n");
                return 1;
        }
        other_fd = dev_fd;
        efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

        /* --- the source --- */
        dev_fd = src_fd;
        r = feature(VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION, &mf, sizeof(mf));
        CHECK_EQ("mig: FEATURE_MIGRATION offers STOP_COPY and P2P", VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P,
                 r ? 0xbad : mf.flags);
        CHECK_EQ("mig: FEATURE_MIGRATION cannot be SET (EINVAL)", EINVAL,
                 feature(VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIGRATION, &mf, sizeof(mf)));
        CHECK_EQ("mig: a device starts RUNNING", VFIO_DEVICE_STATE_RUNNING, mig_get());
        CHECK_EQ("mig: SET ERROR is EINVAL", EINVAL, mig_set(VFIO_DEVICE_STATE_ERROR, NULL));
        CHECK_EQ("mig: SET an unknown state (6) is EINVAL", EINVAL, mig_set(6, NULL));
        CHECK_EQ("mig: still RUNNING after refused arcs", VFIO_DEVICE_STATE_RUNNING, mig_get());

        wr(bar0_off, REG_SCRATCH, 4, 0xcafef00d);
        wr(cfg_off, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
        wr(cfg_off, PCI_BASE_ADDRESS_0, 4, 0xfe000000);
        wr(cfg_off, SIOV_MSI_CAP + PCI_MSI_ADDRESS_LO, 4, 0xfee01000);
        wr(cfg_off, SIOV_MSI_CAP + PCI_MSI_ADDRESS_HI, 4, 0);
        wr(cfg_off, SIOV_MSI_CAP + PCI_MSI_DATA_64, 2, 0x4041);
        wr(cfg_off, SIOV_MSI_CAP + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
        CHECK_EQ("mig: source arms MSI", 0, sirq_fd(VFIO_PCI_MSI_IRQ_INDEX, TR, efd));
        wr(bar0_off, REG_CMD, 4, CMD_RAISE_IRQ);
        CHECK_EQ("mig: source delivers MSI", 1, wait_efd(efd, 2000));
        src_cap = rd(bar0_off, REG_CAP, 4);
        for (v = 0; v < 64; v++)
                src_cfg[v] = rd(cfg_off, v * 4, 4);

        CHECK_EQ("mig: RUNNING -> RUNNING_P2P", 0, mig_set(VFIO_DEVICE_STATE_RUNNING_P2P, NULL));
        CHECK_EQ("mig: RUNNING_P2P -> STOP", 0, mig_set(VFIO_DEVICE_STATE_STOP, NULL));
        CHECK_EQ("mig: GET says STOP", VFIO_DEVICE_STATE_STOP, mig_get());
        wr(bar0_off, REG_SCRATCH, 4, 0x11111111);
        CHECK_EQ("mig: a stopped device ignores register writes", 0xcafef00d, rd(bar0_off, REG_SCRATCH, 4));
        wr(bar0_off, REG_CMD, 4, CMD_RAISE_IRQ);
        usleep(100000);
        CHECK_EQ("mig: a stopped device raises no interrupt", 0, drain(efd));
        r = mig_set(VFIO_DEVICE_STATE_STOP_COPY, &dfd);
        result(r == 0 && dfd >= 0, "mig: STOP -> STOP_COPY returns a data fd", "%s fd %d", ename(r), dfd);
        while (dfd >= 0 && (n = read(dfd, stream + len, sizeof(stream) - len)) > 0)
                len += n;
        CHECK_EQ("mig: the saved state is read to end of stream", MIG_SIZE, len);
        CHECK_EQ("mig: STOP_COPY -> STOP", 0, mig_set(VFIO_DEVICE_STATE_STOP, NULL));
        n = dfd >= 0 ? read(dfd, bad, 1) : 0;
        result(n < 0 && errno == ENODEV, "mig: the data fd fails with ENODEV after its session", "read %zd", n);
        if (dfd >= 0)
                close(dfd);
        CHECK_EQ("mig: STOP -> RUNNING", 0, mig_set(VFIO_DEVICE_STATE_RUNNING, NULL));
        CHECK_EQ("mig: the source runs again, registers kept", 0xcafef00d, rd(bar0_off, REG_SCRATCH, 4));
        CHECK_EQ("mig: RUNNING -> STOP_COPY in one call (combination arc)", 0,
                 mig_set(VFIO_DEVICE_STATE_STOP_COPY, NULL));
        CHECK_EQ("mig: ... ends in STOP_COPY", VFIO_DEVICE_STATE_STOP_COPY, mig_get());
        CHECK_EQ("mig: back to RUNNING", 0, mig_set(VFIO_DEVICE_STATE_RUNNING, NULL));

        /* --- the destination, on another parent --- */
        dev_fd = dst_fd;
        r = resume(stream, len, &werr);
        result(r == 0 && !werr, "mig: the destination loads the state (RESUMING -> STOP)", "%s write %s",
               ename(r), ename(werr));
        CHECK_EQ("mig: destination STOP -> RUNNING", 0, mig_set(VFIO_DEVICE_STATE_RUNNING, NULL));
        CHECK_EQ("mig: destination scratch register matches", 0xcafef00d, rd(bar0_off, REG_SCRATCH, 4));
        CHECK_EQ("mig: destination WQ kind (CAP) matches", src_cap, rd(bar0_off, REG_CAP, 4));
        for (v = 0; v < 64; v++)
                dst_cfg[v] = rd(cfg_off, v * 4, 4);
        CHECK_EQ("mig: destination config space matches (command, BAR0, MSI capability)", 0,
                 memcmp(src_cfg, dst_cfg, sizeof(src_cfg)) ? 1 : 0);
        CHECK_EQ("mig: destination MSI address", 0xfee01000, rd(cfg_off, SIOV_MSI_CAP + PCI_MSI_ADDRESS_LO, 4));
        CHECK_EQ("mig: destination MSI data", 0x4041, rd(cfg_off, SIOV_MSI_CAP + PCI_MSI_DATA_64, 2));
        CHECK_EQ("mig: destination arms MSI like a VMM would", 0, sirq_fd(VFIO_PCI_MSI_IRQ_INDEX, TR, efd));
        wr(bar0_off, REG_CMD, 4, CMD_RAISE_IRQ);
        CHECK_EQ("mig: destination delivers MSI (enable bit migrated)", 1, wait_efd(efd, 2000));

        /* --- refused streams --- */
        memcpy(bad, stream, len);
        bad[32 + 256 + 4] ^= 0x40;      /* scratch, covered by the checksum */
        refused("a corrupt stream", bad, len, EINVAL);
        refused("a truncated stream", stream, len / 2, EINVAL);
        refused("an empty stream", stream, 0, EINVAL);
        memcpy(bad, stream, len);
        bad[4] = 2;                     /* format version */
        refused("a stream of state format 2", bad, len, EPROTONOSUPPORT);
        memcpy(bad, stream, len);
        bad[0] ^= 0xff;                 /* magic */
        refused("a stream that is not a siov_mdev state", bad, len, EINVAL);
        r = mig_set(VFIO_DEVICE_STATE_RESUMING, &dfd);
        memcpy(bad, stream, len);
        n = dfd >= 0 ? write(dfd, bad, len + 1) : 0;
        result(n < 0 && errno == EFBIG, "mig: writing more than a state is EFBIG", "write %zd", n);
        if (dfd >= 0)
                close(dfd);
        CHECK_EQ("mig: RESUMING aborted by VFIO_DEVICE_RESET", VFIO_DEVICE_STATE_RUNNING,
                 ioctl(dev_fd, VFIO_DEVICE_RESET) ? 0xbad : mig_get());
        dev_fd = other_fd;
        refused("a state for another type or geometry", stream, len, EOPNOTSUPP);

        close(efd);
        close(src_fd);
        close(dst_fd);
        close(other_fd);
        printf("vfio-test: %d ok, %d not ok\n", n_ok, n_fail);
        return n_fail || !n_ok;
}

int main(int argc, char **argv)
{
        if (argc == 7 && !strcmp(argv[1], "check"))
                return do_check(argv[2], argv[3], strtoul(argv[4], NULL, 0),
                                strtoul(argv[5], NULL, 0), strtoul(argv[6], NULL, 0));
        if ((argc == 4 || argc == 5) && !strcmp(argv[1], "hold"))
                return do_hold(argv[2], argv[3], argc == 5 && !strcmp(argv[4], "req"),
                               argc == 5 && !strcmp(argv[4], "ignore"));
        if (argc == 3 && !strcmp(argv[1], "irqcmp"))
                return do_irqcmp(argv[2]);
        if (argc == 3 && !strcmp(argv[1], "irq"))
                return do_irq(argv[2]);
        if (argc == 5 && !strcmp(argv[1], "migrate"))
                return do_migrate(argv[2], argv[3], argv[4]);
        fprintf(stderr, "usage: %s check UUID dwq|swq WQ POOL SLOTS\n"
                "       %s irq UUID\n"
                "       %s irqcmp UUID|PCI-ADDRESS\n"
                "       %s migrate SRC-UUID DST-UUID OTHER-TYPE-UUID\n"
                "       %s hold UUID READYFILE [req|ignore]\n", argv[0], argv[0], argv[0], argv[0], argv[0]);
        return 2;
}
