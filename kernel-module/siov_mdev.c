// SPDX-License-Identifier: GPL-2.0
/*
 * siov_mdev - a SIOV-style mdev parent driver whose work-queue pool is
 * shared by mediated devices and by the host.
 *
 * Each parent is a class device of class "idxd" (so mdev type folders read
 * "idxd-1dwq" and "idxd-1swq") and owns a pool of work queues (WQs). A WQ is
 * free, held whole by one idxd-1dwq mdev, shared by up to swq_slots
 * idxd-1swq mdevs, held by one host netdev, or held by one host kernel WQ.
 * available_instances is computed from the pool on every read, every claim
 * is checked against the pool under the parent's pool lock, and every change
 * of the pool sends a KOBJ_CHANGE uevent on the parent carrying SIOV_* keys.
 * Each mdev is a vfio-pci device: emulated config space, a 4 KiB BAR0 with a
 * small register model, INTx/MSI/REQ through eventfds, and reset.
 * The sysfs ABI is documented in README.md next to this file.
 *
 * Lock story (outermost first; nothing else is taken inside these):
 *
 *   siov_lock (global mutex)
 *     Guards siov_parents, siov_unloading and parent add/remove. Held across
 *     parent creation and destruction, so add_parent, remove_parent and
 *     module unload are serialised.
 *   p->host_lock (mutex, per parent)
 *     Serialises changes of the host netdev list. Held across
 *     register_netdev()/unregister_netdevice_many() (they take rtnl_lock
 *     inside; nothing that holds rtnl takes host_lock).
 *   p->uevent_lock (mutex, per parent)
 *     Serialises our KOBJ_CHANGE uevents. The SIOV_* keys are read under
 *     pool_lock while the uevent is built (siov_dev_uevent), so uevents
 *     leave in the order of their snapshots and the last one always shows
 *     the current pool.
 *   p->pool_lock (mutex, per parent, innermost)
 *     Guards the WQ array, the counters and p->dying. Held only for the
 *     arithmetic: never across anything that sleeps for long, registers or
 *     unregisters devices, removes sysfs files or sends uevents. Taken from
 *     sysfs show callbacks (available_instances, pool/ files), so it must
 *     never be held while calling mdev_unregister_parent() or
 *     device_unregister(), which wait for those callbacks to finish.
 *   sdev->lock (mutex, per mdev)
 *     Guards one mdev's config space, registers and eventfd triggers.
 *     Independent of the pool locks.
 *
 * The mdev core's parent->unreg_sem is held (read) around our probe/remove
 * and (write) in mdev_unregister_parent(); both of our callbacks take only
 * pool_lock and uevent_lock under it. No spinlocks are used: every path
 * here runs in process context and may sleep.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/etherdevice.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/anon_inodes.h>
#include <linux/completion.h>
#include <linux/crc32.h>
#include <linux/idr.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/mdev.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/namei.h>
#include <linux/netdevice.h>
#include <linux/pci_regs.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <linux/vfio.h>
#include <linux/workqueue.h>
#if __has_include("linux/unaligned.h")
#include <linux/unaligned.h>	/* 6.12 moved it from asm/ */
#else
#include <asm/unaligned.h>
#endif

/*
 * Kernel API differences, all checked here. checkpatch warns about
 * LINUX_VERSION_CODE; an out-of-tree module that builds for Debian 12's 6.1
 * and for later kernels has no other way to tell them apart.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
/* the vfio core frees the device itself; emulated iommufd ops exist;
 * class.dev_uevent takes a const device
 */
#define SIOV_HAVE_IOMMUFD	1
#define SIOV_UEVENT_CONST	const
#else
#define SIOV_UEVENT_CONST
#endif
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
/* class attribute callbacks take const pointers; class.owner is gone */
#define SIOV_CLASS_CONST	const
#else
#define SIOV_CLASS_CONST
#define SIOV_HAVE_CLASS_OWNER	1
#endif
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
#define SIOV_HAVE_DETACH_IOAS	1
#endif
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
#define siov_eventfd_signal(ctx)	eventfd_signal(ctx)
#else
#define siov_eventfd_signal(ctx)	eventfd_signal(ctx, 1)
#endif

#define SIOV_CLASS_NAME		"idxd"
#define SIOV_PARENT_PREFIX	"siov"
#define SIOV_MAX_PARENTS	64
#define SIOV_MAX_WQS		1024
#define SIOV_MAX_SLOTS		64

/* Virtual function identity: Intel vendor, DSA's class (system peripheral,
 * other), and a device ID that is not DSA's 0x0b25, so that no guest idxd
 * driver binds to a register model it does not know.
 */
#define SIOV_PCI_VENDOR		0x8086
#define SIOV_PCI_DEVICE		0x0b2f
#define SIOV_PCI_SUBSYS_VENDOR	0x8086
#define SIOV_PCI_SUBSYS_DEVICE	0x5349
#define SIOV_PCI_REVISION	0x01
#define SIOV_PCI_CLASS		0x08	/* base class: system peripheral */
#define SIOV_PCI_SUBCLASS	0x80	/* other */

#define SIOV_CFG_SIZE		256
#define SIOV_MSI_CAP		0x40
#define SIOV_BAR0_SIZE		4096

/* BAR0 register model (32-bit little-endian registers) */
#define SIOV_REG_VERSION	0x00	/* RO: 0x00010000 = 1.0 */
#define SIOV_REG_CAP		0x04	/* RO: see SIOV_CAP_* */
#define SIOV_REG_WQ		0x08	/* RO: index of the owned WQ */
#define SIOV_REG_POOL		0x0c	/* RO: WQs in the parent's pool */
#define SIOV_REG_CMD		0x10	/* WO: SIOV_CMD_*, reads 0 */
#define SIOV_REG_STATUS		0x14	/* RO: see SIOV_STS_* */
#define SIOV_REG_SCRATCH	0x18	/* RW: scratch, 0 after reset */
#define SIOV_REG_IRQ_COUNT	0x1c	/* RO: interrupts sent since reset */

#define SIOV_VERSION		0x00010000
#define SIOV_CAP_KIND_DWQ	0x01	/* bits 7:0: kind of the mdev */
#define SIOV_CAP_KIND_SWQ	0x02
#define SIOV_CAP_SLOTS_SHIFT	8	/* bits 15:8: slots per shared WQ */
#define SIOV_CAP_INTX		BIT(16)
#define SIOV_CAP_MSI		BIT(17)

#define SIOV_CMD_NOP		0x00
#define SIOV_CMD_RAISE_IRQ	0x01	/* signal MSI, else INTx */
#define SIOV_CMD_RESET		0x02	/* same as VFIO_DEVICE_RESET */

#define SIOV_STS_OPCODE		GENMASK(7, 0)	/* last command */
#define SIOV_STS_RESULT_SHIFT	8		/* bits 15:8: its result */
#define SIOV_STS_DONE		BIT(31)
#define SIOV_RES_OK		0x00
#define SIOV_RES_BAD_CMD	0x01
#define SIOV_RES_IRQ_PENDING	0x02	/* INTx masked: sent on unmask */
#define SIOV_RES_NO_IRQ		0x03	/* no trigger set up */

/* Region index lives in the top bits of the file offset (vfio-pci's rule) */
#define SIOV_OFFSET_SHIFT	40
#define SIOV_OFFSET_MASK	((1ULL << SIOV_OFFSET_SHIFT) - 1)
#define SIOV_INDEX_TO_OFFSET(i)	((u64)(i) << SIOV_OFFSET_SHIFT)

static unsigned int siov_nr_parents = 1;
module_param_named(parents, siov_nr_parents, uint, 0444);
MODULE_PARM_DESC(parents, "Parents created at load time (0-64, default 1)");

static unsigned int siov_def_wqs = 8;
module_param_named(wqs, siov_def_wqs, uint, 0444);
MODULE_PARM_DESC(wqs, "Work queues per parent (1-1024, default 8)");

static bool siov_migration = true;
module_param_named(migration, siov_migration, bool, 0444);
MODULE_PARM_DESC(migration, "Offer VFIO migration v2 on mdevs (default 1)");

static unsigned int siov_def_slots = 4;
module_param_named(swq_slots, siov_def_slots, uint, 0444);
MODULE_PARM_DESC(swq_slots, "idxd-1swq slots per shared work queue (1-64, default 4)");

enum siov_wq_use {
	SIOV_WQ_FREE,
	SIOV_WQ_MDEV_DWQ,
	SIOV_WQ_MDEV_SWQ,
	SIOV_WQ_HOST_NETDEV,
	SIOV_WQ_HOST_WQ,
	SIOV_WQ_NR_USES,
};

enum siov_kind {
	SIOV_KIND_DWQ,
	SIOV_KIND_SWQ,
	SIOV_NR_KINDS,
};

struct siov_wq {
	u8 use;			/* enum siov_wq_use */
	u8 slots_used;		/* SIOV_WQ_MDEV_SWQ only */
};

struct siov_parent;

struct siov_type {
	struct mdev_type type;
	enum siov_kind kind;
	struct siov_parent *parent;
};

struct siov_parent {
	struct device dev;
	struct mdev_parent mdev_parent;
	struct siov_type types[SIOV_NR_KINDS];
	struct mdev_type *type_ptrs[SIOV_NR_KINDS];
	struct list_head node;		/* in siov_parents, under siov_lock */
	int id;

	struct mutex pool_lock;		/* wq, count, swq_slots_used, gen, dying */
	unsigned int nr_wqs;
	unsigned int slots;
	struct siov_wq *wq;
	unsigned int count[SIOV_WQ_NR_USES];
	unsigned int swq_slots_used;
	u64 gen;			/* bumped on every pool change */
	bool dying;

	struct mutex host_lock;		/* netdevs, nr_netdevs (writes) */
	struct net_device **netdevs;
	unsigned int nr_netdevs;

	struct mutex uevent_lock;	/* orders our KOBJ_CHANGE uevents */

	/* remove_parent: destruction runs on siov_wq, the writer waits killable */
	struct work_struct destroy_work;
	struct completion destroyed;
};

struct siov_nd {
	struct siov_parent *parent;
	unsigned int wq;
};

/* no interrupt type armed (vfio-pci's value for it) */
#define SIOV_IRQ_NONE		VFIO_PCI_NUM_IRQS

struct siov_migf;

struct siov_mdev {
	struct vfio_device vdev;
	struct siov_parent *parent;	/* referenced from .init to .release */
	struct mdev_device *mdev;
	enum siov_kind kind;
	unsigned int wq;
	unsigned int slots;
	unsigned int nr_wqs;
	struct delayed_work announce;	/* the create's pool-change uevent */
	unsigned int announce_tries;
	bool announced;

	/* SET_IRQS and close: irq_type changes, the INTx unmask irqfd */
	struct mutex igate;
	struct virqfd *intx_unmask;

	struct mutex lock;		/* everything below */
	u8 cfg[SIOV_CFG_SIZE];
	u32 status;
	u32 scratch;
	u32 irq_count;
	unsigned int irq_type;		/* also written under igate */
	bool intx_masked;
	bool intx_pending;
	struct eventfd_ctx *intx_trigger;
	struct eventfd_ctx *msi_trigger;
	struct eventfd_ctx *req_trigger;
	enum vfio_device_mig_state mig_state;
	struct siov_migf *migf;		/* the save/resume session, if any */
};

static DEFINE_MUTEX(siov_lock);
static LIST_HEAD(siov_parents);
static bool siov_unloading;
static DEFINE_IDA(siov_ida);
/* parent destruction, which can wait as long as a VFIO user keeps a device */
static struct workqueue_struct *siov_wq;

static struct mdev_driver siov_mdev_driver;
static struct class siov_class;

static const char * const siov_type_sysfs_names[SIOV_NR_KINDS] = {
	[SIOV_KIND_DWQ] = "1dwq",
	[SIOV_KIND_SWQ] = "1swq",
};

static const char * const siov_type_pretty_names[SIOV_NR_KINDS] = {
	[SIOV_KIND_DWQ] = "Virtual DSA, 1 dedicated work queue",
	[SIOV_KIND_SWQ] = "Virtual DSA, 1 shared work queue slot",
};

static inline struct siov_parent *to_siov_parent(struct device *dev)
{
	return container_of(dev, struct siov_parent, dev);
}

static inline struct siov_type *to_siov_type(struct mdev_type *mtype)
{
	return container_of(mtype, struct siov_type, type);
}

static inline struct siov_mdev *to_siov_mdev(struct vfio_device *vdev)
{
	return container_of(vdev, struct siov_mdev, vdev);
}

/* ---- the work-queue pool (callers hold pool_lock) ---------------------- */

static unsigned int siov_avail_locked(struct siov_parent *p,
				      enum siov_kind kind)
{
	lockdep_assert_held(&p->pool_lock);
	if (kind == SIOV_KIND_DWQ)
		return p->count[SIOV_WQ_FREE];
	/* free slots on shared WQs + slots on WQs that could become shared */
	return (p->count[SIOV_WQ_MDEV_SWQ] + p->count[SIOV_WQ_FREE]) *
		p->slots - p->swq_slots_used;
}

/* Take one whole free WQ for @use; returns its index or -ENOSPC. */
static int siov_pool_take_free(struct siov_parent *p, enum siov_wq_use use)
{
	unsigned int i;

	lockdep_assert_held(&p->pool_lock);
	if (p->dying)
		return -ENODEV;
	if (!p->count[SIOV_WQ_FREE])
		return -ENOSPC;
	for (i = 0; i < p->nr_wqs; i++) {
		if (p->wq[i].use != SIOV_WQ_FREE)
			continue;
		p->wq[i].use = use;
		p->wq[i].slots_used = 0;
		p->count[SIOV_WQ_FREE]--;
		p->count[use]++;
		p->gen++;
		return i;
	}
	/* the counters disagree with the array: refuse rather than overcommit */
	WARN_ONCE(1, "siov pool counters out of sync\n");
	return -EIO;
}

/*
 * Take one slot on a shared WQ. The fullest shared WQ with room is used, so
 * that whole WQs stay free for idxd-1dwq and the host; a free WQ becomes
 * shared only when no shared WQ has a free slot.
 */
static int siov_pool_take_slot(struct siov_parent *p)
{
	int best = -1;
	unsigned int i;

	lockdep_assert_held(&p->pool_lock);
	if (p->dying)
		return -ENODEV;
	for (i = 0; i < p->nr_wqs; i++) {
		struct siov_wq *wq = &p->wq[i];

		if (wq->use != SIOV_WQ_MDEV_SWQ || wq->slots_used >= p->slots)
			continue;
		if (best < 0 || wq->slots_used > p->wq[best].slots_used)
			best = i;
	}
	if (best < 0) {
		best = siov_pool_take_free(p, SIOV_WQ_MDEV_SWQ);
		if (best < 0)
			return best;
	} else {
		p->gen++;
	}
	p->wq[best].slots_used++;
	p->swq_slots_used++;
	return best;
}

/* Give back one claim on WQ @i (a slot, or the whole WQ). */
static void siov_pool_put(struct siov_parent *p, unsigned int i)
{
	struct siov_wq *wq;

	lockdep_assert_held(&p->pool_lock);
	if (WARN_ON(i >= p->nr_wqs))
		return;
	wq = &p->wq[i];
	if (WARN_ON(wq->use == SIOV_WQ_FREE))
		return;
	p->gen++;
	if (wq->use == SIOV_WQ_MDEV_SWQ) {
		wq->slots_used--;
		p->swq_slots_used--;
		if (wq->slots_used)
			return;
	}
	p->count[wq->use]--;
	wq->use = SIOV_WQ_FREE;
	p->count[SIOV_WQ_FREE]++;
}

/* Release the highest-numbered WQ held for @use. */
static void siov_pool_put_last(struct siov_parent *p, enum siov_wq_use use)
{
	unsigned int i;

	lockdep_assert_held(&p->pool_lock);
	for (i = p->nr_wqs; i-- > 0;) {
		if (p->wq[i].use == use) {
			siov_pool_put(p, i);
			return;
		}
	}
	WARN_ONCE(1, "siov pool: no WQ in use %d\n", use);
}

/* Send KOBJ_CHANGE; siov_dev_uevent() adds the keys under pool_lock. */
static void siov_pool_notify(struct siov_parent *p)
{
	bool dying;

	mutex_lock(&p->uevent_lock);
	mutex_lock(&p->pool_lock);
	dying = p->dying;
	mutex_unlock(&p->pool_lock);
	if (!dying)
		kobject_uevent(&p->dev.kobj, KOBJ_CHANGE);
	mutex_unlock(&p->uevent_lock);
}

static int siov_dev_uevent(SIOV_UEVENT_CONST struct device *cdev,
			   struct kobj_uevent_env *env)
{
	/* only the pool is read, under its lock */
	struct siov_parent *p = container_of(cdev, struct siov_parent, dev);
	unsigned int c[SIOV_WQ_NR_USES], avail_dwq, avail_swq, total;
	u64 gen;
	int ret;

	mutex_lock(&p->pool_lock);
	memcpy(c, p->count, sizeof(c));
	avail_dwq = siov_avail_locked(p, SIOV_KIND_DWQ);
	avail_swq = siov_avail_locked(p, SIOV_KIND_SWQ);
	total = p->nr_wqs;
	gen = p->gen;
	mutex_unlock(&p->pool_lock);

	ret = add_uevent_var(env, "SIOV_POOL_FREE=%u", c[SIOV_WQ_FREE]);
	if (!ret)
		ret = add_uevent_var(env, "SIOV_POOL_TOTAL=%u", total);
	if (!ret)
		ret = add_uevent_var(env, "SIOV_AVAIL_1DWQ=%u", avail_dwq);
	if (!ret)
		ret = add_uevent_var(env, "SIOV_AVAIL_1SWQ=%u", avail_swq);
	if (!ret)
		ret = add_uevent_var(env, "SIOV_POOL_MDEV_DWQ=%u",
				     c[SIOV_WQ_MDEV_DWQ]);
	if (!ret)
		ret = add_uevent_var(env, "SIOV_POOL_MDEV_SWQ=%u",
				     c[SIOV_WQ_MDEV_SWQ]);
	if (!ret)
		ret = add_uevent_var(env, "SIOV_POOL_HOST_NETDEV=%u",
				     c[SIOV_WQ_HOST_NETDEV]);
	if (!ret)
		ret = add_uevent_var(env, "SIOV_POOL_HOST_WQ=%u",
				     c[SIOV_WQ_HOST_WQ]);
	if (!ret)
		ret = add_uevent_var(env, "SIOV_POOL_GEN=%llu",
				     (unsigned long long)gen);
	return ret;
}

/* ---- host netdevs ------------------------------------------------------ */

/*
 * Called with bottom halves disabled (from softirq, or from a process with
 * BHs off), under the queue's xmit lock: it takes no lock and never sleeps.
 */
static netdev_tx_t siov_nd_xmit(struct sk_buff *skb, struct net_device *nd)
{
	/* There is no wire: account the packet as dropped. */
	dev_core_stats_tx_dropped_inc(nd);
	dev_kfree_skb(skb);
	return NETDEV_TX_OK;
}

static const struct net_device_ops siov_nd_ops = {
	.ndo_start_xmit		= siov_nd_xmit,
	.ndo_validate_addr	= eth_validate_addr,
	.ndo_set_mac_address	= eth_mac_addr,
};

static void siov_nd_setup(struct net_device *nd)
{
	ether_setup(nd);
	nd->netdev_ops = &siov_nd_ops;
	nd->flags |= IFF_NOARP;
	nd->flags &= ~IFF_MULTICAST;
	nd->priv_flags |= IFF_LIVE_ADDR_CHANGE | IFF_NO_QUEUE;
	/* accounting of this host's pool: it stays in the initial namespace */
#ifdef NETIF_F_NETNS_LOCAL
	nd->features |= NETIF_F_NETNS_LOCAL;
#else
	nd->netns_local = true;		/* 6.12 made the feature a field */
#endif
	eth_hw_addr_random(nd);
}

static struct net_device *siov_nd_create(struct siov_parent *p,
					 unsigned int wq)
{
	char name[IFNAMSIZ];
	struct net_device *nd;
	struct siov_nd *priv;
	int ret;

	/* "siov0nd%d": the parent name keeps host netdevs apart per parent */
	snprintf(name, sizeof(name), "%snd%%d", dev_name(&p->dev));
	nd = alloc_netdev(sizeof(*priv), name, NET_NAME_ENUM, siov_nd_setup);
	if (!nd)
		return ERR_PTR(-ENOMEM);
	priv = netdev_priv(nd);
	priv->parent = p;
	priv->wq = wq;
	nd->dev_port = wq;
	SET_NETDEV_DEV(nd, &p->dev);
	ret = register_netdev(nd);
	if (ret) {
		free_netdev(nd);
		return ERR_PTR(ret);
	}
	return nd;
}

/* Unregister host netdevs [n, nr_netdevs) and return their WQs. */
static void siov_netdevs_trim(struct siov_parent *p, unsigned int n)
{
	unsigned int i, nr = p->nr_netdevs;
	LIST_HEAD(kill);

	lockdep_assert_held(&p->host_lock);
	if (n >= nr)
		return;
	rtnl_lock();
	for (i = n; i < nr; i++)
		unregister_netdevice_queue(p->netdevs[i], &kill);
	unregister_netdevice_many(&kill);
	rtnl_unlock();

	mutex_lock(&p->pool_lock);
	for (i = n; i < nr; i++) {
		struct siov_nd *priv = netdev_priv(p->netdevs[i]);

		siov_pool_put(p, priv->wq);
	}
	mutex_unlock(&p->pool_lock);

	for (i = n; i < nr; i++) {
		free_netdev(p->netdevs[i]);
		p->netdevs[i] = NULL;
	}
	WRITE_ONCE(p->nr_netdevs, n);
}

/*
 * Set the number of host netdevs to @n. All WQs needed are claimed at once
 * before any netdev is registered, so a request that does not fit fails with
 * -ENOSPC and changes nothing; a registration failure undoes this call.
 */
static int siov_netdevs_set(struct siov_parent *p, unsigned int n)
{
	unsigned int i, cur, want;
	unsigned int *ids = NULL;
	bool changed = false;
	int ret = 0;

	if (n > p->nr_wqs)
		return -ENOSPC;

	ret = mutex_lock_killable(&p->host_lock);
	if (ret)
		return ret;
	mutex_lock(&p->pool_lock);
	if (p->dying)
		ret = -ENODEV;	/* the removal unregisters them itself */
	mutex_unlock(&p->pool_lock);
	if (ret)
		goto out;
	cur = p->nr_netdevs;
	if (n < cur) {
		siov_netdevs_trim(p, n);
		changed = true;
		goto out;
	}
	if (n == cur)
		goto out;

	want = n - cur;
	ids = kmalloc_array(want, sizeof(*ids), GFP_KERNEL);
	if (!ids) {
		ret = -ENOMEM;
		goto out;
	}
	mutex_lock(&p->pool_lock);
	if (p->dying) {
		ret = -ENODEV;
	} else if (p->count[SIOV_WQ_FREE] < want) {
		ret = -ENOSPC;
	} else {
		for (i = 0; i < want; i++) {
			ret = siov_pool_take_free(p, SIOV_WQ_HOST_NETDEV);
			if (ret < 0)
				break;
			ids[i] = ret;
			ret = 0;
		}
		/* cannot happen with the check above; undo to stay exact */
		if (ret < 0)
			while (i-- > 0)
				siov_pool_put(p, ids[i]);
	}
	mutex_unlock(&p->pool_lock);
	if (ret < 0)
		goto out;
	changed = true;

	for (i = 0; i < want; i++) {
		struct net_device *nd = siov_nd_create(p, ids[i]);

		if (IS_ERR(nd)) {
			ret = PTR_ERR(nd);
			break;
		}
		p->netdevs[cur + i] = nd;
		WRITE_ONCE(p->nr_netdevs, cur + i + 1);
	}
	if (ret < 0) {
		unsigned int done = i;

		dev_warn(&p->dev, "host netdev registration failed: %d\n", ret);
		mutex_lock(&p->pool_lock);
		for (i = done; i < want; i++)
			siov_pool_put(p, ids[i]);
		mutex_unlock(&p->pool_lock);
		siov_netdevs_trim(p, cur);
	}
out:
	mutex_unlock(&p->host_lock);
	kfree(ids);
	if (changed)
		siov_pool_notify(p);
	return ret;
}

static int siov_host_wqs_set(struct siov_parent *p, unsigned int n)
{
	unsigned int cur, i;
	int ret = 0;

	if (n > p->nr_wqs)
		return -ENOSPC;

	ret = mutex_lock_killable(&p->pool_lock);
	if (ret)
		return ret;
	cur = p->count[SIOV_WQ_HOST_WQ];
	if (p->dying) {
		ret = -ENODEV;
	} else if (n > cur) {
		if (p->count[SIOV_WQ_FREE] < n - cur) {
			ret = -ENOSPC;
		} else {
			for (i = cur; i < n; i++) {
				ret = siov_pool_take_free(p, SIOV_WQ_HOST_WQ);
				if (ret < 0)
					break;
				ret = 0;
			}
			/* cannot happen with the check above; undo to stay exact */
			if (ret < 0)
				while (i-- > cur)
					siov_pool_put_last(p, SIOV_WQ_HOST_WQ);
		}
	} else {
		for (i = n; i < cur; i++)
			siov_pool_put_last(p, SIOV_WQ_HOST_WQ);
	}
	mutex_unlock(&p->pool_lock);

	if (!ret && n != cur)
		siov_pool_notify(p);
	return ret;
}

/* ---- parent sysfs attributes ------------------------------------------- */

static ssize_t host_netdevs_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(to_siov_parent(dev)->nr_netdevs));
}

static ssize_t host_netdevs_store(struct device *dev,
				  struct device_attribute *attr,
				  const char *buf, size_t count)
{
	unsigned int n;
	int ret;

	ret = kstrtouint(buf, 10, &n);
	if (ret)
		return ret;
	ret = siov_netdevs_set(to_siov_parent(dev), n);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(host_netdevs);

static ssize_t host_wqs_show(struct device *dev,
			     struct device_attribute *attr, char *buf)
{
	struct siov_parent *p = to_siov_parent(dev);
	unsigned int n;

	mutex_lock(&p->pool_lock);
	n = p->count[SIOV_WQ_HOST_WQ];
	mutex_unlock(&p->pool_lock);
	return sysfs_emit(buf, "%u\n", n);
}

static ssize_t host_wqs_store(struct device *dev,
			      struct device_attribute *attr,
			      const char *buf, size_t count)
{
	unsigned int n;
	int ret;

	ret = kstrtouint(buf, 10, &n);
	if (ret)
		return ret;
	ret = siov_host_wqs_set(to_siov_parent(dev), n);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(host_wqs);

static struct attribute *siov_parent_attrs[] = {
	&dev_attr_host_netdevs.attr,
	&dev_attr_host_wqs.attr,
	NULL,
};

static const struct attribute_group siov_parent_group = {
	.attrs = siov_parent_attrs,
};

enum siov_pool_field {
	SIOV_POOL_TOTAL,
	SIOV_POOL_FREE,
	SIOV_POOL_MDEV_DWQ,
	SIOV_POOL_MDEV_SWQ,
	SIOV_POOL_HOST_NETDEV,
	SIOV_POOL_HOST_WQ,
	SIOV_POOL_SWQ_SLOTS,
	SIOV_POOL_SWQ_SLOTS_USED,
};

struct siov_pool_attr {
	struct device_attribute attr;
	enum siov_pool_field field;
};

static ssize_t siov_pool_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct siov_pool_attr *pa = container_of(attr, struct siov_pool_attr,
						 attr);
	struct siov_parent *p = to_siov_parent(dev);
	unsigned int v = 0;

	mutex_lock(&p->pool_lock);
	switch (pa->field) {
	case SIOV_POOL_TOTAL:
		v = p->nr_wqs;
		break;
	case SIOV_POOL_FREE:
		v = p->count[SIOV_WQ_FREE];
		break;
	case SIOV_POOL_MDEV_DWQ:
		v = p->count[SIOV_WQ_MDEV_DWQ];
		break;
	case SIOV_POOL_MDEV_SWQ:
		v = p->count[SIOV_WQ_MDEV_SWQ];
		break;
	case SIOV_POOL_HOST_NETDEV:
		v = p->count[SIOV_WQ_HOST_NETDEV];
		break;
	case SIOV_POOL_HOST_WQ:
		v = p->count[SIOV_WQ_HOST_WQ];
		break;
	case SIOV_POOL_SWQ_SLOTS:
		v = p->slots;
		break;
	case SIOV_POOL_SWQ_SLOTS_USED:
		v = p->swq_slots_used;
		break;
	}
	mutex_unlock(&p->pool_lock);
	return sysfs_emit(buf, "%u\n", v);
}

#define SIOV_POOL_ATTR(_name, _field)					\
	static struct siov_pool_attr siov_pool_attr_##_name = {		\
		.attr = __ATTR(_name, 0444, siov_pool_show, NULL),	\
		.field = _field,					\
	}

SIOV_POOL_ATTR(total, SIOV_POOL_TOTAL);
SIOV_POOL_ATTR(free, SIOV_POOL_FREE);
SIOV_POOL_ATTR(mdev_dwq, SIOV_POOL_MDEV_DWQ);
SIOV_POOL_ATTR(mdev_swq, SIOV_POOL_MDEV_SWQ);
SIOV_POOL_ATTR(host_netdev, SIOV_POOL_HOST_NETDEV);
SIOV_POOL_ATTR(host_wq, SIOV_POOL_HOST_WQ);
SIOV_POOL_ATTR(swq_slots, SIOV_POOL_SWQ_SLOTS);
SIOV_POOL_ATTR(swq_slots_used, SIOV_POOL_SWQ_SLOTS_USED);

static struct attribute *siov_pool_attrs[] = {
	&siov_pool_attr_total.attr.attr,
	&siov_pool_attr_free.attr.attr,
	&siov_pool_attr_mdev_dwq.attr.attr,
	&siov_pool_attr_mdev_swq.attr.attr,
	&siov_pool_attr_host_netdev.attr.attr,
	&siov_pool_attr_host_wq.attr.attr,
	&siov_pool_attr_swq_slots.attr.attr,
	&siov_pool_attr_swq_slots_used.attr.attr,
	NULL,
};

static const struct attribute_group siov_pool_group = {
	.name = "pool",
	.attrs = siov_pool_attrs,
};

static const struct attribute_group *siov_parent_groups[] = {
	&siov_parent_group,
	&siov_pool_group,
	NULL,
};

/* ---- VFIO device: config space ----------------------------------------- */

/* Writable bits of config space; everything else is read-only. */
static const u8 siov_cfg_wmask[SIOV_CFG_SIZE] = {
	/* memory space, bus master */
	[PCI_COMMAND] = (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER) & 0xff,
	/* SERR#, INTx disable */
	[PCI_COMMAND + 1] = (PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE) >> 8,
	[PCI_CACHE_LINE_SIZE] = 0xff,
	[PCI_LATENCY_TIMER] = 0xff,
	/* BAR0: 4 KiB, 32-bit, non-prefetchable memory: bits 31:12 only,
	 * so writing all ones reads back the size mask (BAR sizing)
	 */
	[PCI_BASE_ADDRESS_0 + 1] = 0xf0,
	[PCI_BASE_ADDRESS_0 + 2] = 0xff,
	[PCI_BASE_ADDRESS_0 + 3] = 0xff,
	[PCI_INTERRUPT_LINE] = 0xff,
	[SIOV_MSI_CAP + PCI_MSI_FLAGS] = PCI_MSI_FLAGS_ENABLE,
	[SIOV_MSI_CAP + PCI_MSI_ADDRESS_LO] = 0xfc,
	[SIOV_MSI_CAP + PCI_MSI_ADDRESS_LO + 1] = 0xff,
	[SIOV_MSI_CAP + PCI_MSI_ADDRESS_LO + 2] = 0xff,
	[SIOV_MSI_CAP + PCI_MSI_ADDRESS_LO + 3] = 0xff,
	[SIOV_MSI_CAP + PCI_MSI_ADDRESS_HI] = 0xff,
	[SIOV_MSI_CAP + PCI_MSI_ADDRESS_HI + 1] = 0xff,
	[SIOV_MSI_CAP + PCI_MSI_ADDRESS_HI + 2] = 0xff,
	[SIOV_MSI_CAP + PCI_MSI_ADDRESS_HI + 3] = 0xff,
	[SIOV_MSI_CAP + PCI_MSI_DATA_64] = 0xff,
	[SIOV_MSI_CAP + PCI_MSI_DATA_64 + 1] = 0xff,
};

static void siov_cfg_init(struct siov_mdev *s)
{
	u8 *c = s->cfg;

	memset(c, 0, SIOV_CFG_SIZE);
	put_unaligned_le16(SIOV_PCI_VENDOR, c + PCI_VENDOR_ID);
	put_unaligned_le16(SIOV_PCI_DEVICE, c + PCI_DEVICE_ID);
	put_unaligned_le16(PCI_STATUS_CAP_LIST, c + PCI_STATUS);
	c[PCI_REVISION_ID] = SIOV_PCI_REVISION;
	c[PCI_CLASS_PROG] = 0;
	c[PCI_CLASS_DEVICE] = SIOV_PCI_SUBCLASS;
	c[PCI_CLASS_DEVICE + 1] = SIOV_PCI_CLASS;
	c[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
	/* BAR0 type bits are all zero: 32-bit non-prefetchable memory */
	put_unaligned_le16(SIOV_PCI_SUBSYS_VENDOR, c + PCI_SUBSYSTEM_VENDOR_ID);
	put_unaligned_le16(SIOV_PCI_SUBSYS_DEVICE, c + PCI_SUBSYSTEM_ID);
	c[PCI_CAPABILITY_LIST] = SIOV_MSI_CAP;
	c[PCI_INTERRUPT_PIN] = 1;	/* INTA# */
	c[SIOV_MSI_CAP + PCI_CAP_LIST_ID] = PCI_CAP_ID_MSI;
	c[SIOV_MSI_CAP + PCI_CAP_LIST_NEXT] = 0;
	/* one vector, 64-bit address */
	put_unaligned_le16(PCI_MSI_FLAGS_64BIT, c + SIOV_MSI_CAP + PCI_MSI_FLAGS);
}

/* ---- VFIO device: BAR0 registers and interrupts ------------------------ */

/* RUNNING and RUNNING_P2P (no DMA here): the device works; else it is still */
static bool siov_running(struct siov_mdev *s)
{
	return s->mig_state == VFIO_DEVICE_STATE_RUNNING ||
	       s->mig_state == VFIO_DEVICE_STATE_RUNNING_P2P;
}

static bool siov_cfg_intx_disabled(struct siov_mdev *s)
{
	return get_unaligned_le16(s->cfg + PCI_COMMAND) &
	       PCI_COMMAND_INTX_DISABLE;
}

static bool siov_cfg_msi_enabled(struct siov_mdev *s)
{
	return get_unaligned_le16(s->cfg + SIOV_MSI_CAP + PCI_MSI_FLAGS) &
	       PCI_MSI_FLAGS_ENABLE;
}

static void siov_signal(struct siov_mdev *s, struct eventfd_ctx *ctx)
{
	lockdep_assert_held(&s->lock);
	if (ctx) {
		siov_eventfd_signal(ctx);
		s->irq_count++;
	}
}

/* INTx pending is also the config status register's interrupt bit */
static void siov_intx_set_pending(struct siov_mdev *s, bool pending)
{
	u16 st = get_unaligned_le16(s->cfg + PCI_STATUS);

	s->intx_pending = pending;
	if (pending)
		st |= PCI_STATUS_INTERRUPT;
	else
		st &= ~PCI_STATUS_INTERRUPT;
	put_unaligned_le16(st, s->cfg + PCI_STATUS);
}

/*
 * Deliver a pending INTx once nothing holds it back: INTx armed, not masked
 * (SET_IRQS MASK or automask), INTx not disabled in the command register,
 * and the device running.
 */
static void siov_intx_update(struct siov_mdev *s)
{
	lockdep_assert_held(&s->lock);
	if (!s->intx_pending || s->intx_masked ||
	    s->irq_type != VFIO_PCI_INTX_IRQ_INDEX ||
	    siov_cfg_intx_disabled(s) || !siov_running(s))
		return;
	siov_intx_set_pending(s, false);
	s->intx_masked = true;	/* level-triggered: the user unmasks */
	siov_signal(s, s->intx_trigger);
}

/* The device interrupt: MSI if armed and enabled, INTx if armed. */
static u32 siov_raise_irq(struct siov_mdev *s)
{
	lockdep_assert_held(&s->lock);
	switch (s->irq_type) {
	case VFIO_PCI_MSI_IRQ_INDEX:
		if (!siov_cfg_msi_enabled(s) || !s->msi_trigger)
			return SIOV_RES_NO_IRQ;
		siov_signal(s, s->msi_trigger);
		return SIOV_RES_OK;
	case VFIO_PCI_INTX_IRQ_INDEX:
		siov_intx_set_pending(s, true);
		siov_intx_update(s);
		return s->intx_pending ? SIOV_RES_IRQ_PENDING : SIOV_RES_OK;
	default:
		return SIOV_RES_NO_IRQ;
	}
}

static void siov_intx_unmask(struct siov_mdev *s)
{
	lockdep_assert_held(&s->lock);
	s->intx_masked = false;
	siov_intx_update(s);
}

/* Device reset: registers and config space; eventfds stay as set up. */
static void siov_reset_locked(struct siov_mdev *s)
{
	lockdep_assert_held(&s->lock);
	siov_cfg_init(s);
	s->status = 0;
	s->scratch = 0;
	s->irq_count = 0;
	s->intx_masked = false;
	s->intx_pending = false;
}

static u32 siov_reg_read(struct siov_mdev *s, unsigned int reg)
{
	switch (reg) {
	case SIOV_REG_VERSION:
		return SIOV_VERSION;
	case SIOV_REG_CAP:
		return (s->kind == SIOV_KIND_DWQ ? SIOV_CAP_KIND_DWQ :
			SIOV_CAP_KIND_SWQ) |
			(s->slots << SIOV_CAP_SLOTS_SHIFT) |
			SIOV_CAP_INTX | SIOV_CAP_MSI;
	case SIOV_REG_WQ:
		return s->wq;
	case SIOV_REG_POOL:
		return s->nr_wqs;
	case SIOV_REG_STATUS:
		return s->status;
	case SIOV_REG_SCRATCH:
		return s->scratch;
	case SIOV_REG_IRQ_COUNT:
		return s->irq_count;
	default:
		return 0;
	}
}

/* @val and @mask are already shifted into the register's byte lanes. */
static void siov_reg_write(struct siov_mdev *s, unsigned int reg,
			   u32 val, u32 mask)
{
	u32 op, res;

	switch (reg) {
	case SIOV_REG_SCRATCH:
		s->scratch = (s->scratch & ~mask) | (val & mask);
		break;
	case SIOV_REG_CMD:
		/* a command is issued by a write covering the opcode byte */
		if (!(mask & SIOV_STS_OPCODE))
			break;
		op = val & SIOV_STS_OPCODE;
		switch (op) {
		case SIOV_CMD_NOP:
			res = SIOV_RES_OK;
			break;
		case SIOV_CMD_RAISE_IRQ:
			res = siov_raise_irq(s);
			break;
		case SIOV_CMD_RESET:
			siov_reset_locked(s);
			res = SIOV_RES_OK;
			break;
		default:
			res = SIOV_RES_BAD_CMD;
			break;
		}
		s->status = SIOV_STS_DONE | (res << SIOV_STS_RESULT_SHIFT) | op;
		break;
	default:
		/* read-only or reserved: writes are ignored */
		break;
	}
}

/* One naturally aligned access of 1, 2 or 4 bytes at *@ppos. */
static int siov_access(struct siov_mdev *s, u8 *buf, size_t size,
		       loff_t pos, bool write)
{
	unsigned int index = pos >> SIOV_OFFSET_SHIFT;
	u64 off = pos & SIOV_OFFSET_MASK;
	unsigned int i, shift;
	u32 val, mask;
	int ret = 0;

	mutex_lock(&s->lock);
	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		if (off + size > SIOV_CFG_SIZE) {
			ret = -EINVAL;
			break;
		}
		for (i = 0; i < size; i++) {
			u8 *c = &s->cfg[off + i];
			u8 wm = siov_cfg_wmask[off + i];

			if (write)
				*c = (*c & ~wm) | (buf[i] & wm);
			else
				buf[i] = *c;
		}
		/* clearing INTx disable lets a pending INTx out */
		if (write)
			siov_intx_update(s);
		break;
	case VFIO_PCI_BAR0_REGION_INDEX:
		if (off + size > SIOV_BAR0_SIZE) {
			ret = -EINVAL;
			break;
		}
		shift = (off & 3) * 8;
		/* a stopped device (migration) does not change: writes dropped */
		if (write && !siov_running(s))
			break;
		if (write) {
			val = 0;
			for (i = 0; i < size; i++)
				val |= (u32)buf[i] << (8 * i);
			mask = size == 4 ? ~0U : (BIT(size * 8) - 1);
			siov_reg_write(s, off & ~3ULL, val << shift,
				       mask << shift);
		} else {
			val = siov_reg_read(s, off & ~3ULL) >> shift;
			for (i = 0; i < size; i++)
				buf[i] = val >> (8 * i);
		}
		break;
	default:
		ret = -EINVAL;
		break;
	}
	mutex_unlock(&s->lock);
	return ret;
}

static size_t siov_access_size(size_t count, loff_t pos)
{
	if (count >= 4 && !(pos % 4))
		return 4;
	if (count >= 2 && !(pos % 2))
		return 2;
	return 1;
}

static ssize_t siov_read(struct vfio_device *vdev, char __user *ubuf,
			 size_t count, loff_t *ppos)
{
	struct siov_mdev *s = to_siov_mdev(vdev);
	size_t done = 0;
	int ret;

	while (done < count) {
		size_t n = siov_access_size(count - done, *ppos);
		u8 buf[4];

		ret = siov_access(s, buf, n, *ppos, false);
		if (ret)
			return done ? done : ret;
		if (copy_to_user(ubuf + done, buf, n))
			return -EFAULT;
		done += n;
		*ppos += n;
	}
	return done;
}

static ssize_t siov_write(struct vfio_device *vdev, const char __user *ubuf,
			  size_t count, loff_t *ppos)
{
	struct siov_mdev *s = to_siov_mdev(vdev);
	size_t done = 0;
	int ret;

	while (done < count) {
		size_t n = siov_access_size(count - done, *ppos);
		u8 buf[4];

		if (copy_from_user(buf, ubuf + done, n))
			return -EFAULT;
		ret = siov_access(s, buf, n, *ppos, true);
		if (ret)
			return done ? done : ret;
		done += n;
		*ppos += n;
	}
	return done;
}

static unsigned int siov_irq_count(unsigned int index)
{
	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:	/* interrupt pin INTA */
	case VFIO_PCI_MSI_IRQ_INDEX:	/* one vector */
	case VFIO_PCI_REQ_IRQ_INDEX:
		return 1;
	default:			/* no MSI-X; no ERR: not PCI Express */
		return 0;
	}
}

/*
 * SET_IRQS, with vfio-pci's semantics (drivers/vfio/pci/vfio_pci_intrs.c):
 * VMMs are written against vfio-pci, so every answer, errno included, is
 * the one vfio-pci gives for a conventional PCI device with INTx and one
 * MSI vector. One interrupt type (INTx or MSI) is armed at a time. Called
 * with s->igate held, which guards s->irq_type and the unmask irqfd; the
 * state they change is also under s->lock, which the irqfd's thread takes,
 * so vfio_virqfd_disable() (which waits for that thread) is called with
 * igate only.
 */
static void siov_intx_disable(struct siov_mdev *s)
{
	struct eventfd_ctx *old;

	vfio_virqfd_disable(&s->intx_unmask);
	mutex_lock(&s->lock);
	old = s->intx_trigger;
	s->intx_trigger = NULL;
	s->irq_type = SIOV_IRQ_NONE;
	s->intx_masked = false;
	siov_intx_set_pending(s, false);
	mutex_unlock(&s->lock);
	if (old)
		eventfd_ctx_put(old);
}

static void siov_msi_disable(struct siov_mdev *s)
{
	struct eventfd_ctx *old;

	mutex_lock(&s->lock);
	old = s->msi_trigger;
	s->msi_trigger = NULL;
	s->irq_type = SIOV_IRQ_NONE;
	mutex_unlock(&s->lock);
	if (old)
		eventfd_ctx_put(old);
}

/* The INTx unmask irqfd (QEMU's resample eventfd with KVM) fired. */
static void siov_intx_unmask_thread(void *opaque, void *unused)
{
	struct siov_mdev *s = opaque;

	mutex_lock(&s->lock);
	if (s->irq_type == VFIO_PCI_INTX_IRQ_INDEX)
		siov_intx_unmask(s);
	mutex_unlock(&s->lock);
}

static int siov_set_intx_mask(struct siov_mdev *s, u32 start, u32 count,
			      u32 flags, void *data, bool unmask)
{
	lockdep_assert_held(&s->igate);
	if (s->irq_type != VFIO_PCI_INTX_IRQ_INDEX || start || count != 1)
		return -EINVAL;
	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		s32 fd = *(s32 *)data;

		if (!unmask)
			return -ENOTTY;	/* vfio-pci has no mask irqfd */
		if (fd >= 0)
			return vfio_virqfd_enable(s, NULL, siov_intx_unmask_thread,
						  NULL, &s->intx_unmask, fd);
		vfio_virqfd_disable(&s->intx_unmask);
		return 0;
	}
	if ((flags & VFIO_IRQ_SET_DATA_BOOL) && !*(u8 *)data)
		return 0;
	mutex_lock(&s->lock);
	if (unmask)
		siov_intx_unmask(s);
	else
		s->intx_masked = true;
	mutex_unlock(&s->lock);
	return 0;
}

static int siov_set_intx_trigger(struct siov_mdev *s, u32 start, u32 count,
				 u32 flags, void *data)
{
	bool is_intx = s->irq_type == VFIO_PCI_INTX_IRQ_INDEX;

	lockdep_assert_held(&s->igate);
	if (is_intx && !count && (flags & VFIO_IRQ_SET_DATA_NONE)) {
		siov_intx_disable(s);
		return 0;
	}
	if (!(is_intx || s->irq_type == SIOV_IRQ_NONE) || start || count != 1)
		return -EINVAL;
	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		struct eventfd_ctx *trigger = NULL, *old;
		s32 fd = *(s32 *)data;

		/* like vfio-pci, any negative fd arms INTx without a trigger */
		if (fd >= 0) {
			trigger = eventfd_ctx_fdget(fd);
			if (IS_ERR(trigger))
				return PTR_ERR(trigger);
		}
		mutex_lock(&s->lock);
		old = s->intx_trigger;
		s->intx_trigger = trigger;
		if (!is_intx) {
			s->irq_type = VFIO_PCI_INTX_IRQ_INDEX;
			s->intx_masked = false;
			siov_intx_set_pending(s, false);
		}
		mutex_unlock(&s->lock);
		if (old) {
			vfio_virqfd_flush_thread(&s->intx_unmask);
			eventfd_ctx_put(old);
		}
		return 0;
	}
	if (!is_intx)
		return -EINVAL;
	if ((flags & VFIO_IRQ_SET_DATA_BOOL) && !*(u8 *)data)
		return 0;
	/* loopback */
	mutex_lock(&s->lock);
	siov_signal(s, s->intx_trigger);
	mutex_unlock(&s->lock);
	return 0;
}

static int siov_set_msi_trigger(struct siov_mdev *s, u32 start, u32 count,
				u32 flags, void *data)
{
	bool is_msi = s->irq_type == VFIO_PCI_MSI_IRQ_INDEX;
	struct eventfd_ctx *trigger, *old;
	s32 fd;

	lockdep_assert_held(&s->igate);
	if (is_msi && !count && (flags & VFIO_IRQ_SET_DATA_NONE)) {
		siov_msi_disable(s);
		return 0;
	}
	if (!(is_msi || s->irq_type == SIOV_IRQ_NONE))
		return -EINVAL;
	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		if (!count)
			return -EINVAL;	/* no vector to enable */
		/* MSI is armed first; like vfio-pci, a negative fd leaves it
		 * armed without a trigger, a bad fd disarms a new arming
		 */
		mutex_lock(&s->lock);
		old = s->msi_trigger;
		s->msi_trigger = NULL;
		s->irq_type = VFIO_PCI_MSI_IRQ_INDEX;
		mutex_unlock(&s->lock);
		if (old)
			eventfd_ctx_put(old);
		fd = *(s32 *)data;
		if (fd < 0)
			return 0;
		trigger = eventfd_ctx_fdget(fd);
		if (IS_ERR(trigger)) {
			if (!is_msi)
				siov_msi_disable(s);
			return PTR_ERR(trigger);
		}
		mutex_lock(&s->lock);
		s->msi_trigger = trigger;
		mutex_unlock(&s->lock);
		return 0;
	}
	if (!is_msi || start + count > 1)
		return -EINVAL;
	if (!count || ((flags & VFIO_IRQ_SET_DATA_BOOL) && !*(u8 *)data))
		return 0;
	/* loopback */
	mutex_lock(&s->lock);
	siov_signal(s, s->msi_trigger);
	mutex_unlock(&s->lock);
	return 0;
}

/* vfio_pci_set_ctx_trigger_single(), for the REQ index */
static int siov_set_req_trigger(struct siov_mdev *s, u32 start, u32 count,
				u32 flags, void *data)
{
	struct eventfd_ctx *ctx = NULL;
	int ret = 0;

	if (start || count > 1)
		return -EINVAL;
	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		s32 fd;

		if (!count)
			return -EINVAL;
		fd = *(s32 *)data;
		if (fd >= 0) {
			ctx = eventfd_ctx_fdget(fd);
			if (IS_ERR(ctx))
				return PTR_ERR(ctx);
		} else if (fd != -1) {
			return 0;	/* vfio-pci ignores fds below -1 here */
		}
		mutex_lock(&s->lock);
		swap(ctx, s->req_trigger);
		mutex_unlock(&s->lock);
		if (ctx)
			eventfd_ctx_put(ctx);
		return 0;
	}

	mutex_lock(&s->lock);
	if (flags & VFIO_IRQ_SET_DATA_NONE) {
		if (!s->req_trigger) {
			ret = -EINVAL;
		} else if (count) {
			siov_eventfd_signal(s->req_trigger);
		} else {
			ctx = s->req_trigger;
			s->req_trigger = NULL;
		}
	} else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (!count)
			ret = -EINVAL;
		else if (*(u8 *)data && s->req_trigger)
			siov_eventfd_signal(s->req_trigger);
	} else {
		ret = -EINVAL;
	}
	mutex_unlock(&s->lock);
	if (ctx)
		eventfd_ctx_put(ctx);
	return ret;
}

static int siov_set_irqs(struct siov_mdev *s, struct vfio_irq_set *hdr,
			 void *data)
{
	u32 action = hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;

	switch (hdr->index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		switch (action) {
		case VFIO_IRQ_SET_ACTION_MASK:
		case VFIO_IRQ_SET_ACTION_UNMASK:
			return siov_set_intx_mask(s, hdr->start, hdr->count,
						  hdr->flags, data,
						  action == VFIO_IRQ_SET_ACTION_UNMASK);
		case VFIO_IRQ_SET_ACTION_TRIGGER:
			return siov_set_intx_trigger(s, hdr->start, hdr->count,
						     hdr->flags, data);
		}
		break;
	case VFIO_PCI_MSI_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return siov_set_msi_trigger(s, hdr->start, hdr->count,
						    hdr->flags, data);
		break;	/* MSI cannot be masked: ENOTTY, as vfio-pci */
	case VFIO_PCI_REQ_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return siov_set_req_trigger(s, hdr->start, hdr->count,
						    hdr->flags, data);
		break;
	}
	return -ENOTTY;
}

/* ---- VFIO migration v2 ------------------------------------------------- */

/*
 * The device state stream: a header, then the payload; little-endian. The
 * header names the state format and the geometry the guest can see (the
 * kind, and for idxd-1swq the slots per shared WQ in the CAP register),
 * which a destination must match. The WQ and POOL registers are not part
 * of it: they are the destination's (the destination mdev holds its own WQ,
 * claimed when it was created).
 */
#define SIOV_MIG_MAGIC		0x564f4953	/* "SIOV" */
#define SIOV_MIG_FORMAT		1

struct siov_mig_hdr {
	__le32 magic;
	__le16 format;
	__le16 hdr_size;
	__le32 kind;		/* SIOV_CAP_KIND_* */
	__le32 slots;		/* slots per shared WQ; 0 for idxd-1dwq */
	__le32 payload_size;
	__le32 payload_crc;	/* crc32 (zlib's) of the payload */
	__le32 reserved[2];
};

struct siov_mig_payload {
	u8 cfg[SIOV_CFG_SIZE];
	__le32 status;
	__le32 scratch;
	__le32 irq_count;
	u8 intx_masked;
	u8 intx_pending;
	u8 reserved[2];
};

#define SIOV_MIG_SIZE	(sizeof(struct siov_mig_hdr) + \
			 sizeof(struct siov_mig_payload))
static_assert(sizeof(struct siov_mig_hdr) == 32);
static_assert(sizeof(struct siov_mig_payload) == SIOV_CFG_SIZE + 16);

/* One save or resume session: the data fd's file. */
struct siov_migf {
	struct file *filp;
	struct mutex lock;	/* everything below */
	bool disabled;		/* the session ended: the fd reads/writes fail */
	size_t size;		/* bytes in buf */
	size_t pos;		/* save: next byte read */
	u8 buf[SIOV_MIG_SIZE];
};

static ssize_t siov_migf_read(struct file *filp, char __user *ubuf,
			      size_t len, loff_t *pos)
{
	struct siov_migf *m = filp->private_data;
	ssize_t n;

	if (pos)
		return -ESPIPE;
	mutex_lock(&m->lock);
	if (m->disabled) {
		n = -ENODEV;
		goto out;
	}
	n = min_t(size_t, len, m->size - m->pos);
	if (n && copy_to_user(ubuf, m->buf + m->pos, n)) {
		n = -EFAULT;
		goto out;
	}
	m->pos += n;
out:
	mutex_unlock(&m->lock);
	return n;
}

static ssize_t siov_migf_write(struct file *filp, const char __user *ubuf,
			       size_t len, loff_t *pos)
{
	struct siov_migf *m = filp->private_data;
	ssize_t n = len;

	if (pos)
		return -ESPIPE;
	mutex_lock(&m->lock);
	if (m->disabled)
		n = -ENODEV;
	else if (len > sizeof(m->buf) - m->size)
		n = -EFBIG;	/* longer than any state of this device */
	else if (copy_from_user(m->buf + m->size, ubuf, len))
		n = -EFAULT;
	else
		m->size += len;
	mutex_unlock(&m->lock);
	return n;
}

static int siov_migf_release(struct inode *inode, struct file *filp)
{
	struct siov_migf *m = filp->private_data;

	mutex_destroy(&m->lock);
	kfree(m);
	return 0;
}

static const struct file_operations siov_migf_fops = {
	.owner		= THIS_MODULE,
	.read		= siov_migf_read,
	.write		= siov_migf_write,
	.release	= siov_migf_release,
	.llseek		= no_llseek,
};

/* A new session; s->migf keeps a file reference of its own. */
static struct siov_migf *siov_migf_open(struct siov_mdev *s, bool save)
{
	struct siov_migf *m;

	m = kzalloc(sizeof(*m), GFP_KERNEL_ACCOUNT);
	if (!m)
		return ERR_PTR(-ENOMEM);
	m->filp = anon_inode_getfile("siov_mdev_mig", &siov_migf_fops, m,
				     save ? O_RDONLY : O_WRONLY);
	if (IS_ERR(m->filp)) {
		struct file *err = m->filp;

		kfree(m);
		return ERR_CAST(err);
	}
	stream_open(m->filp->f_inode, m->filp);
	mutex_init(&m->lock);
	get_file(m->filp);
	s->migf = m;
	return m;
}

/* End the session: its fd now fails reads and writes with ENODEV. */
static void siov_migf_close(struct siov_mdev *s)
{
	struct siov_migf *m = s->migf;

	if (!m)
		return;
	mutex_lock(&m->lock);
	m->disabled = true;
	mutex_unlock(&m->lock);
	s->migf = NULL;
	fput(m->filp);
}

static u32 siov_cap_kind(struct siov_mdev *s)
{
	return s->kind == SIOV_KIND_DWQ ? SIOV_CAP_KIND_DWQ : SIOV_CAP_KIND_SWQ;
}

static void siov_mig_save(struct siov_mdev *s, u8 *buf)
{
	struct siov_mig_hdr *h = (struct siov_mig_hdr *)buf;
	struct siov_mig_payload *pl = (struct siov_mig_payload *)(h + 1);

	lockdep_assert_held(&s->lock);
	memset(buf, 0, SIOV_MIG_SIZE);
	memcpy(pl->cfg, s->cfg, SIOV_CFG_SIZE);
	pl->status = cpu_to_le32(s->status);
	pl->scratch = cpu_to_le32(s->scratch);
	pl->irq_count = cpu_to_le32(s->irq_count);
	pl->intx_masked = s->intx_masked;
	pl->intx_pending = s->intx_pending;

	h->magic = cpu_to_le32(SIOV_MIG_MAGIC);
	h->format = cpu_to_le16(SIOV_MIG_FORMAT);
	h->hdr_size = cpu_to_le16(sizeof(*h));
	h->kind = cpu_to_le32(siov_cap_kind(s));
	h->slots = cpu_to_le32(s->kind == SIOV_KIND_SWQ ? s->slots : 0);
	h->payload_size = cpu_to_le32(sizeof(*pl));
	h->payload_crc = cpu_to_le32(crc32_le(~0, (u8 *)pl, sizeof(*pl)) ^ ~0);
}

/* Check a whole resume stream, then load it; nothing changes on error. */
static int siov_mig_load(struct siov_mdev *s, const u8 *buf, size_t size)
{
	const struct siov_mig_hdr *h = (const struct siov_mig_hdr *)buf;
	const struct siov_mig_payload *pl = (const void *)(h + 1);
	struct device *dev = s->vdev.dev;
	unsigned int i;

	lockdep_assert_held(&s->lock);
	if (size < sizeof(*h)) {
		dev_notice(dev, "resume: truncated stream (%zu bytes)\n", size);
		return -EINVAL;
	}
	if (le32_to_cpu(h->magic) != SIOV_MIG_MAGIC) {
		dev_notice(dev, "resume: not a siov_mdev device state\n");
		return -EINVAL;
	}
	if (le16_to_cpu(h->format) != SIOV_MIG_FORMAT) {
		dev_notice(dev, "resume: state format %u, this driver reads %u\n",
			   le16_to_cpu(h->format), SIOV_MIG_FORMAT);
		return -EPROTONOSUPPORT;
	}
	if (le32_to_cpu(h->kind) != siov_cap_kind(s) ||
	    le32_to_cpu(h->slots) != (s->kind == SIOV_KIND_SWQ ? s->slots : 0)) {
		dev_notice(dev, "resume: state of kind %u with %u slots per shared WQ, this mdev is kind %u with %u\n",
			   le32_to_cpu(h->kind), le32_to_cpu(h->slots),
			   siov_cap_kind(s),
			   s->kind == SIOV_KIND_SWQ ? s->slots : 0);
		return -EOPNOTSUPP;
	}
	if (le16_to_cpu(h->hdr_size) != sizeof(*h) ||
	    le32_to_cpu(h->payload_size) != sizeof(*pl) ||
	    size != SIOV_MIG_SIZE) {
		dev_notice(dev, "resume: stream of %zu bytes, a state is %zu\n",
			   size, SIOV_MIG_SIZE);
		return -EINVAL;
	}
	if ((crc32_le(~0, (const u8 *)pl, sizeof(*pl)) ^ ~0) !=
	    le32_to_cpu(h->payload_crc)) {
		dev_notice(dev, "resume: corrupt stream (checksum)\n");
		return -EINVAL;
	}

	/* read-only config bits stay this driver's, writable ones are loaded */
	siov_cfg_init(s);
	for (i = 0; i < SIOV_CFG_SIZE; i++)
		s->cfg[i] = (s->cfg[i] & ~siov_cfg_wmask[i]) |
			    (pl->cfg[i] & siov_cfg_wmask[i]);
	s->status = le32_to_cpu(pl->status);
	s->scratch = le32_to_cpu(pl->scratch);
	s->irq_count = le32_to_cpu(pl->irq_count);
	s->intx_masked = pl->intx_masked;
	siov_intx_set_pending(s, pl->intx_pending);
	return 0;
}

/* One arc of the state machine (vfio_mig_get_next_state() picked it). */
static struct file *siov_mig_step(struct siov_mdev *s,
				  enum vfio_device_mig_state next)
{
	enum vfio_device_mig_state cur = s->mig_state;
	struct siov_migf *m;
	int ret;

	lockdep_assert_held(&s->lock);
	/* no DMA, so the P2P quiescent state is RUNNING's twin */
	if ((cur == VFIO_DEVICE_STATE_RUNNING &&
	     next == VFIO_DEVICE_STATE_RUNNING_P2P) ||
	    (cur == VFIO_DEVICE_STATE_RUNNING_P2P &&
	     (next == VFIO_DEVICE_STATE_RUNNING ||
	      next == VFIO_DEVICE_STATE_STOP)) ||
	    (cur == VFIO_DEVICE_STATE_STOP &&
	     next == VFIO_DEVICE_STATE_RUNNING_P2P))
		return NULL;

	if (cur == VFIO_DEVICE_STATE_STOP &&
	    next == VFIO_DEVICE_STATE_STOP_COPY) {
		m = siov_migf_open(s, true);
		if (IS_ERR(m))
			return ERR_CAST(m);
		siov_mig_save(s, m->buf);
		m->size = SIOV_MIG_SIZE;
		return m->filp;
	}
	if (cur == VFIO_DEVICE_STATE_STOP_COPY &&
	    next == VFIO_DEVICE_STATE_STOP) {
		siov_migf_close(s);
		return NULL;
	}
	if (cur == VFIO_DEVICE_STATE_STOP &&
	    next == VFIO_DEVICE_STATE_RESUMING) {
		m = siov_migf_open(s, false);
		return IS_ERR(m) ? ERR_CAST(m) : m->filp;
	}
	if (cur == VFIO_DEVICE_STATE_RESUMING &&
	    next == VFIO_DEVICE_STATE_STOP) {
		m = s->migf;
		mutex_lock(&m->lock);
		ret = siov_mig_load(s, m->buf, m->size);
		mutex_unlock(&m->lock);
		siov_migf_close(s);
		if (ret) {
			/* refused: ERROR until VFIO_DEVICE_RESET */
			s->mig_state = VFIO_DEVICE_STATE_ERROR;
			return ERR_PTR(ret);
		}
		return NULL;
	}
	return ERR_PTR(-EINVAL);
}

static struct file *siov_mig_set_state(struct vfio_device *vdev,
				       enum vfio_device_mig_state new_state)
{
	struct siov_mdev *s = to_siov_mdev(vdev);
	enum vfio_device_mig_state next;
	struct file *res = NULL;
	int ret;

	mutex_lock(&s->lock);
	/*
	 * Every arc out of ERROR is invalid (only VFIO_DEVICE_RESET leaves it);
	 * vfio_mig_get_next_state() must not be asked: it WARNs on ERROR.
	 */
	if (s->mig_state == VFIO_DEVICE_STATE_ERROR)
		res = ERR_PTR(-EINVAL);
	while (!IS_ERR(res) && new_state != s->mig_state) {
		ret = vfio_mig_get_next_state(vdev, s->mig_state, new_state,
					      &next);
		if (ret) {
			res = ERR_PTR(ret);
			break;
		}
		res = siov_mig_step(s, next);
		if (IS_ERR(res))
			break;
		s->mig_state = next;
		if (WARN_ON(res && new_state != s->mig_state)) {
			fput(res);
			res = ERR_PTR(-EINVAL);
			break;
		}
	}
	/* running again: an INTx that came up while stopped goes out now */
	siov_intx_update(s);
	mutex_unlock(&s->lock);
	return res;
}

static int siov_mig_get_state(struct vfio_device *vdev,
			      enum vfio_device_mig_state *state)
{
	struct siov_mdev *s = to_siov_mdev(vdev);

	mutex_lock(&s->lock);
	*state = s->mig_state;
	mutex_unlock(&s->lock);
	return 0;
}

static const struct vfio_migration_ops siov_mig_ops = {
	.migration_set_state	= siov_mig_set_state,
	.migration_get_state	= siov_mig_get_state,
};

/* VFIO_DEVICE_RESET and close: back to RUNNING, any session ended */
static void siov_mig_reset_locked(struct siov_mdev *s)
{
	lockdep_assert_held(&s->lock);
	siov_migf_close(s);
	s->mig_state = VFIO_DEVICE_STATE_RUNNING;
}

/* ---- VFIO device ops --------------------------------------------------- */

static long siov_ioctl(struct vfio_device *vdev, unsigned int cmd,
		       unsigned long arg)
{
	struct siov_mdev *s = to_siov_mdev(vdev);
	void __user *uarg = (void __user *)arg;
	unsigned long minsz;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO: {
		struct vfio_device_info info;

		minsz = offsetofend(struct vfio_device_info, num_irqs);
		if (copy_from_user(&info, uarg, minsz))
			return -EFAULT;
		if (info.argsz < minsz)
			return -EINVAL;
		info.flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
		info.num_regions = VFIO_PCI_NUM_REGIONS;
		info.num_irqs = VFIO_PCI_NUM_IRQS;
		return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
	}
	case VFIO_DEVICE_GET_REGION_INFO: {
		struct vfio_region_info info;

		minsz = offsetofend(struct vfio_region_info, offset);
		if (copy_from_user(&info, uarg, minsz))
			return -EFAULT;
		if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_REGIONS)
			return -EINVAL;
		info.cap_offset = 0;
		info.offset = SIOV_INDEX_TO_OFFSET(info.index);
		switch (info.index) {
		case VFIO_PCI_CONFIG_REGION_INDEX:
			info.size = SIOV_CFG_SIZE;
			info.flags = VFIO_REGION_INFO_FLAG_READ |
				     VFIO_REGION_INFO_FLAG_WRITE;
			break;
		case VFIO_PCI_BAR0_REGION_INDEX:
			info.size = SIOV_BAR0_SIZE;
			info.flags = VFIO_REGION_INFO_FLAG_READ |
				     VFIO_REGION_INFO_FLAG_WRITE;
			break;
		default:
			info.size = 0;
			info.flags = 0;
			break;
		}
		return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
	}
	case VFIO_DEVICE_GET_IRQ_INFO: {
		struct vfio_irq_info info;

		minsz = offsetofend(struct vfio_irq_info, count);
		if (copy_from_user(&info, uarg, minsz))
			return -EFAULT;
		if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS)
			return -EINVAL;
		/* vfio-pci has no ERR index for a conventional PCI device */
		if (info.index == VFIO_PCI_ERR_IRQ_INDEX)
			return -EINVAL;
		info.flags = VFIO_IRQ_INFO_EVENTFD;
		info.count = siov_irq_count(info.index);
		if (info.index == VFIO_PCI_INTX_IRQ_INDEX)
			info.flags |= VFIO_IRQ_INFO_MASKABLE |
				      VFIO_IRQ_INFO_AUTOMASKED;
		else
			info.flags |= VFIO_IRQ_INFO_NORESIZE;
		return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
	}
	case VFIO_DEVICE_SET_IRQS: {
		struct vfio_irq_set hdr;
		size_t data_size = 0;
		u8 *data = NULL;
		int ret;

		minsz = offsetofend(struct vfio_irq_set, count);
		if (copy_from_user(&hdr, uarg, minsz))
			return -EFAULT;
		ret = vfio_set_irqs_validate_and_prepare(&hdr,
							 siov_irq_count(hdr.index),
							 VFIO_PCI_NUM_IRQS,
							 &data_size);
		if (ret)
			return ret;
		if (data_size) {
			data = memdup_user(uarg + minsz, data_size);
			if (IS_ERR(data))
				return PTR_ERR(data);
		}
		mutex_lock(&s->igate);
		ret = siov_set_irqs(s, &hdr, data);
		mutex_unlock(&s->igate);
		kfree(data);
		return ret;
	}
	case VFIO_DEVICE_RESET:
		mutex_lock(&s->lock);
		siov_reset_locked(s);
		siov_mig_reset_locked(s);
		mutex_unlock(&s->lock);
		return 0;
	default:
		return -ENOTTY;
	}
}

static void siov_close_device(struct vfio_device *vdev)
{
	struct siov_mdev *s = to_siov_mdev(vdev);

	mutex_lock(&s->igate);
	if (s->irq_type == VFIO_PCI_INTX_IRQ_INDEX)
		siov_intx_disable(s);
	else if (s->irq_type == VFIO_PCI_MSI_IRQ_INDEX)
		siov_msi_disable(s);
	mutex_lock(&s->lock);
	if (s->req_trigger)
		eventfd_ctx_put(s->req_trigger);
	s->req_trigger = NULL;
	siov_reset_locked(s);
	siov_mig_reset_locked(s);
	mutex_unlock(&s->lock);
	mutex_unlock(&s->igate);
}

/* Removal waits for the user to close the device: ask it to let go. */
static void siov_request(struct vfio_device *vdev, unsigned int count)
{
	struct siov_mdev *s = to_siov_mdev(vdev);

	mutex_lock(&s->lock);
	if (s->req_trigger)
		siov_eventfd_signal(s->req_trigger);
	else if (!count)
		dev_notice(vdev->dev,
			   "in use and no request eventfd: removal waits for the user to close it\n");
	mutex_unlock(&s->lock);
}

/*
 * Per-device state lives from .init to .release (vfio_alloc_device() calls
 * .init, the last vfio_put_device() calls .release), as in the 6.1 samples:
 * the WQ claim is made here, so the pool holds exactly the claims of the
 * devices that exist. The mdev core does no capacity check: this is it.
 */
static void siov_mdev_announce(struct work_struct *work);

static int siov_vfio_init(struct vfio_device *vdev)
{
	struct siov_mdev *s = to_siov_mdev(vdev);
	struct mdev_device *mdev = to_mdev_device(vdev->dev);
	struct siov_type *t = to_siov_type(mdev->type);
	struct siov_parent *p = t->parent;
	int wq;

	mutex_lock(&p->pool_lock);
	if (t->kind == SIOV_KIND_DWQ)
		wq = siov_pool_take_free(p, SIOV_WQ_MDEV_DWQ);
	else
		wq = siov_pool_take_slot(p);
	mutex_unlock(&p->pool_lock);
	if (wq < 0)
		return wq;

	get_device(&p->dev);	/* .release gives the claim back to p */
	s->parent = p;
	s->mdev = mdev;
	s->kind = t->kind;
	s->wq = wq;
	s->slots = p->slots;
	s->nr_wqs = p->nr_wqs;
	INIT_DELAYED_WORK(&s->announce, siov_mdev_announce);
	mutex_init(&s->igate);
	mutex_init(&s->lock);
	s->irq_type = SIOV_IRQ_NONE;
	s->mig_state = VFIO_DEVICE_STATE_RUNNING;
	if (siov_migration) {
		vdev->migration_flags = VFIO_MIGRATION_STOP_COPY |
					VFIO_MIGRATION_P2P;
		vdev->mig_ops = &siov_mig_ops;
	}
	siov_cfg_init(s);
	return 0;
}

static void siov_vfio_release(struct vfio_device *vdev)
{
	struct siov_mdev *s = to_siov_mdev(vdev);
	struct siov_parent *p = s->parent;
	bool announced = s->announced;

	mutex_lock(&p->pool_lock);
	siov_pool_put(p, s->wq);
	mutex_unlock(&p->pool_lock);
	/* a create that was never announced is not announced going away */
	if (announced)
		siov_pool_notify(p);

	mutex_destroy(&s->lock);
	mutex_destroy(&s->igate);
#ifndef SIOV_HAVE_IOMMUFD
	/* 6.1 leaves freeing to .release; 6.2 moved it into the core */
	vfio_free_device(vdev);
#endif
	put_device(&p->dev);
}

static const struct vfio_device_ops siov_vfio_ops = {
	.name		= "siov-mdev",
	.init		= siov_vfio_init,
	.release	= siov_vfio_release,
	.close_device	= siov_close_device,
	.read		= siov_read,
	.write		= siov_write,
	.ioctl		= siov_ioctl,
	.request	= siov_request,
#ifdef SIOV_HAVE_IOMMUFD
	.bind_iommufd	= vfio_iommufd_emulated_bind,
	.unbind_iommufd	= vfio_iommufd_emulated_unbind,
	.attach_ioas	= vfio_iommufd_emulated_attach_ioas,
#endif
#ifdef SIOV_HAVE_DETACH_IOAS
	.detach_ioas	= vfio_iommufd_emulated_detach_ioas,
#endif
};

/* ---- mdev driver ------------------------------------------------------- */

/* Give up waiting for the mdev core after this long (it never takes it). */
#define SIOV_ANNOUNCE_TRIES	(10 * HZ)

/*
 * The pool-change uevent of a create. Probe runs before the mdev core has
 * created the device's sysfs entries (the type's devices/ link, mdev_type,
 * remove); it sets mdev->active right after them, so the event waits for
 * that: a listener that rescans on the event sees the device complete.
 */
static void siov_mdev_announce(struct work_struct *work)
{
	struct siov_mdev *s = container_of(to_delayed_work(work),
					   struct siov_mdev, announce);

	if (!READ_ONCE(s->mdev->active) &&
	    ++s->announce_tries < SIOV_ANNOUNCE_TRIES) {
		queue_delayed_work(siov_wq, &s->announce, 1);
		return;
	}
	s->announced = true;
	siov_pool_notify(s->parent);
}

static int siov_mdev_probe(struct mdev_device *mdev)
{
	struct siov_mdev *s;
	int ret;

	s = vfio_alloc_device(siov_mdev, vdev, &mdev->dev, &siov_vfio_ops);
	if (IS_ERR(s))
		return PTR_ERR(s);	/* ENOSPC: the pool cannot serve it */
	ret = vfio_register_emulated_iommu_dev(&s->vdev);
	if (ret) {
		vfio_put_device(&s->vdev);	/* refused: no uevent */
		return ret;
	}
	dev_set_drvdata(&mdev->dev, s);
	queue_delayed_work(siov_wq, &s->announce, 0);
	return 0;
}

static void siov_mdev_remove(struct mdev_device *mdev)
{
	struct siov_mdev *s = dev_get_drvdata(&mdev->dev);

	/* waits until no user has the device open */
	vfio_unregister_group_dev(&s->vdev);
	cancel_delayed_work_sync(&s->announce);
	/* the last reference: .release gives the WQ back */
	vfio_put_device(&s->vdev);
}

static unsigned int siov_get_available(struct mdev_type *mtype)
{
	struct siov_type *t = to_siov_type(mtype);
	struct siov_parent *p = t->parent;
	unsigned int n;

	mutex_lock(&p->pool_lock);
	n = siov_avail_locked(p, t->kind);
	mutex_unlock(&p->pool_lock);
	return n;
}

static ssize_t siov_show_description(struct mdev_type *mtype, char *buf)
{
	struct siov_type *t = to_siov_type(mtype);
	struct siov_parent *p = t->parent;

	if (t->kind == SIOV_KIND_DWQ)
		return sysfs_emit(buf,
				  "cost: 1 whole work queue of the %u in %s's pool (the pool is shared with host netdevs and host work queues)\n",
				  p->nr_wqs, dev_name(&p->dev));
	return sysfs_emit(buf,
			  "cost: 1 of %u slots on a shared work queue of %s's pool of %u; the first slot on a work queue takes it whole from the pool, the last slot freed returns it\n",
			  p->slots, dev_name(&p->dev), p->nr_wqs);
}

/*
 * mdev_supported_types/<type>/migration_version: what a destination type
 * must match for a device state to be loadable there (see siov_mig_load).
 * The mdev core has no driver type attributes since 5.19, and its attribute
 * type is private, so this is a read-only binary attribute (served by
 * sysfs without the type's sysfs_ops) holding one line of text.
 */
static int siov_mig_version(struct siov_type *t, char *buf, size_t size)
{
	if (t->kind == SIOV_KIND_DWQ)
		return scnprintf(buf, size,
				 "driver=siov_mdev type=" SIOV_CLASS_NAME "-%s state=%u\n",
				 siov_type_sysfs_names[t->kind], SIOV_MIG_FORMAT);
	return scnprintf(buf, size,
			 "driver=siov_mdev type=" SIOV_CLASS_NAME "-%s state=%u swq_slots=%u\n",
			 siov_type_sysfs_names[t->kind], SIOV_MIG_FORMAT,
			 t->parent->slots);
}

static ssize_t migration_version_read(struct file *filp, struct kobject *kobj,
				      struct bin_attribute *attr, char *buf,
				      loff_t off, size_t count)
{
	struct mdev_type *mtype = container_of(kobj, struct mdev_type, kobj);
	char line[96];
	int len;

	len = siov_mig_version(to_siov_type(mtype), line, sizeof(line));
	return memory_read_from_buffer(buf, count, &off, line, len);
}
static BIN_ATTR_RO(migration_version, 0);

/* /sys/bus/mdev/devices/<uuid>/wq: the WQ this mdev owns */
static ssize_t wq_show(struct device *dev, struct device_attribute *attr,
		       char *buf)
{
	struct siov_mdev *s = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%u\n", s->wq);
}
static DEVICE_ATTR_RO(wq);

/* /sys/bus/mdev/devices/<uuid>/migratable: VFIO migration v2 offered */
static ssize_t migratable_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct siov_mdev *s = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%d\n", s->vdev.mig_ops ? 1 : 0);
}
static DEVICE_ATTR_RO(migratable);

static struct attribute *siov_mdev_attrs[] = {
	&dev_attr_wq.attr,
	&dev_attr_migratable.attr,
	NULL,
};
ATTRIBUTE_GROUPS(siov_mdev);

static struct mdev_driver siov_mdev_driver = {
	.device_api = VFIO_DEVICE_API_PCI_STRING,
	.driver = {
		.name = "siov_mdev",
		.owner = THIS_MODULE,	/* VFIO pins us while a device is open */
		.mod_name = KBUILD_MODNAME,
		.dev_groups = siov_mdev_groups,
	},
	.probe = siov_mdev_probe,
	.remove = siov_mdev_remove,
	.get_available = siov_get_available,
	.show_description = siov_show_description,
};

/* ---- parents ----------------------------------------------------------- */

static void siov_parent_release(struct device *dev)
{
	struct siov_parent *p = to_siov_parent(dev);

	ida_free(&siov_ida, p->id);
	mutex_destroy(&p->pool_lock);
	mutex_destroy(&p->host_lock);
	mutex_destroy(&p->uevent_lock);
	kfree(p->netdevs);
	kfree(p->wq);
	kfree(p);
}

static void siov_parent_remove_type_files(struct siov_parent *p)
{
	int k;

	/* removing a file that was never created is a no-op */
	for (k = 0; k < SIOV_NR_KINDS; k++)
		sysfs_remove_bin_file(&p->types[k].type.kobj,
				      &bin_attr_migration_version);
}

/* Claims on a dying parent (creates, host_netdevs, host_wqs) fail: ENODEV. */
static void siov_parent_mark_dying(struct siov_parent *p)
{
	mutex_lock(&p->pool_lock);
	p->dying = true;
	mutex_unlock(&p->pool_lock);
}

/*
 * Removes the mdevs (the mdev core calls siov_mdev_remove for each), then host
 * use, then the parent. The caller took @p off siov_parents and does not hold
 * siov_lock: mdev_unregister_parent() waits for every VFIO user of the
 * parent's mdevs to close them, for as long as that user wants.
 */
static void siov_parent_destroy(struct siov_parent *p)
{
	siov_parent_mark_dying(p);
	siov_parent_remove_type_files(p);
	mdev_unregister_parent(&p->mdev_parent);

	mutex_lock(&p->host_lock);
	siov_netdevs_trim(p, 0);
	mutex_unlock(&p->host_lock);

	dev_info(&p->dev, "removed\n");
	device_unregister(&p->dev);
}

static void siov_parent_destroy_work(struct work_struct *work)
{
	struct siov_parent *p = container_of(work, struct siov_parent,
					     destroy_work);

	siov_parent_destroy(p);
	complete_all(&p->destroyed);
	put_device(&p->dev);	/* the work's reference */
}

static struct siov_parent *siov_parent_create(unsigned int nr_wqs,
					      unsigned int slots)
{
	struct siov_parent *p;
	int ret, k;

	if (!nr_wqs || nr_wqs > SIOV_MAX_WQS || !slots || slots > SIOV_MAX_SLOTS)
		return ERR_PTR(-EINVAL);

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return ERR_PTR(-ENOMEM);
	p->wq = kcalloc(nr_wqs, sizeof(*p->wq), GFP_KERNEL);
	p->netdevs = kcalloc(nr_wqs, sizeof(*p->netdevs), GFP_KERNEL);
	if (!p->wq || !p->netdevs) {
		ret = -ENOMEM;
		goto err_free;
	}
	p->id = ida_alloc_max(&siov_ida, SIOV_MAX_PARENTS - 1, GFP_KERNEL);
	if (p->id < 0) {
		ret = p->id;
		goto err_free;
	}
	mutex_init(&p->pool_lock);
	mutex_init(&p->host_lock);
	mutex_init(&p->uevent_lock);
	INIT_LIST_HEAD(&p->node);
	INIT_WORK(&p->destroy_work, siov_parent_destroy_work);
	init_completion(&p->destroyed);
	p->nr_wqs = nr_wqs;
	p->slots = slots;
	p->count[SIOV_WQ_FREE] = nr_wqs;
	for (k = 0; k < SIOV_NR_KINDS; k++) {
		p->types[k].type.sysfs_name = siov_type_sysfs_names[k];
		p->types[k].type.pretty_name = siov_type_pretty_names[k];
		p->types[k].kind = k;
		p->types[k].parent = p;
		p->type_ptrs[k] = &p->types[k].type;
	}

	/* from here on, put_device() frees everything via the release */
	device_initialize(&p->dev);
	p->dev.class = &siov_class;
	p->dev.release = siov_parent_release;
	p->dev.groups = siov_parent_groups;
	ret = dev_set_name(&p->dev, SIOV_PARENT_PREFIX "%d", p->id);
	if (ret)
		goto err_put;
	ret = device_add(&p->dev);
	if (ret)
		goto err_put;
	/* the mdev types hold a reference on p->dev until they are gone */
	ret = mdev_register_parent(&p->mdev_parent, &p->dev, &siov_mdev_driver,
				   p->type_ptrs, SIOV_NR_KINDS);
	if (ret)
		goto err_del;
	if (siov_migration) {
		for (k = 0; k < SIOV_NR_KINDS; k++) {
			ret = sysfs_create_bin_file(&p->types[k].type.kobj,
						    &bin_attr_migration_version);
			if (ret)
				goto err_unreg;
		}
	}
	dev_info(&p->dev, "%u work queues, %u slots per shared work queue\n",
		 nr_wqs, slots);
	return p;

err_unreg:
	siov_parent_remove_type_files(p);
	mdev_unregister_parent(&p->mdev_parent);
err_del:
	device_del(&p->dev);
err_put:
	put_device(&p->dev);
	return ERR_PTR(ret);
err_free:
	kfree(p->netdevs);
	kfree(p->wq);
	kfree(p);
	return ERR_PTR(ret);
}

static struct siov_parent *siov_parent_find(const char *name)
{
	struct siov_parent *p;

	lockdep_assert_held(&siov_lock);
	list_for_each_entry(p, &siov_parents, node)
		if (!strcmp(dev_name(&p->dev), name))
			return p;
	return NULL;
}

/* ---- class control files: /sys/class/idxd/{add,remove}_parent --------- */

/* "" (or whitespace) = defaults; "N" = N work queues; "N S" = S slots too */
static ssize_t add_parent_store(SIOV_CLASS_CONST struct class *cls,
				SIOV_CLASS_CONST struct class_attribute *attr,
				const char *buf, size_t count)
{
	unsigned int nr_wqs = siov_def_wqs, slots = siov_def_slots;
	struct siov_parent *p;
	char tmp[32], *s, *sep;
	int ret;

	if (count >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, buf, count);
	tmp[count] = '\0';
	s = strim(tmp);
	if (*s) {
		sep = strpbrk(s, " \t");
		if (sep) {
			*sep++ = '\0';
			ret = kstrtouint(skip_spaces(sep), 10, &slots);
			if (ret)
				return ret;
		}
		ret = kstrtouint(s, 10, &nr_wqs);
		if (ret)
			return ret;
	}
	if (!nr_wqs || nr_wqs > SIOV_MAX_WQS || !slots || slots > SIOV_MAX_SLOTS)
		return -EINVAL;

	/* a writer killed while waiting for the lock returns having done nothing */
	ret = mutex_lock_killable(&siov_lock);
	if (ret)
		return ret;
	if (siov_unloading) {
		ret = -ENODEV;
	} else {
		p = siov_parent_create(nr_wqs, slots);
		if (IS_ERR(p)) {
			ret = PTR_ERR(p);
		} else {
			list_add_tail(&p->node, &siov_parents);
			ret = 0;
		}
	}
	mutex_unlock(&siov_lock);
	return ret ? ret : count;
}
static CLASS_ATTR_WO(add_parent);

static ssize_t remove_parent_store(SIOV_CLASS_CONST struct class *cls,
				   SIOV_CLASS_CONST struct class_attribute *attr,
				   const char *buf, size_t count)
{
	struct siov_parent *p;
	char tmp[32], *name;
	int ret = 0;

	if (count >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, buf, count);
	tmp[count] = '\0';
	name = strim(tmp);

	ret = mutex_lock_killable(&siov_lock);
	if (ret)
		return ret;
	p = siov_unloading ? NULL : siov_parent_find(name);
	if (p) {
		/* off the list and dying under the lock, destroyed outside it */
		list_del_init(&p->node);
		siov_parent_mark_dying(p);
		get_device(&p->dev);	/* the work's */
		get_device(&p->dev);	/* ours, for p->destroyed */
		queue_work(siov_wq, &p->destroy_work);
	}
	mutex_unlock(&siov_lock);
	if (!p)
		return -ENODEV;

	/*
	 * Removal waits until every VFIO user of the parent's mdevs has closed
	 * them (they are asked through the REQ eventfd). Only this writer waits
	 * for that; killed, it returns and the removal completes on its own.
	 */
	ret = wait_for_completion_killable(&p->destroyed);
	put_device(&p->dev);
	return ret ? ret : count;
}
static CLASS_ATTR_WO(remove_parent);

static struct attribute *siov_class_attrs[] = {
	&class_attr_add_parent.attr,
	&class_attr_remove_parent.attr,
	NULL,
};
ATTRIBUTE_GROUPS(siov_class);

static struct class siov_class = {
	.name = SIOV_CLASS_NAME,
#ifdef SIOV_HAVE_CLASS_OWNER
	.owner = THIS_MODULE,
#endif
	.class_groups = siov_class_groups,
	.dev_uevent = siov_dev_uevent,
};

/* ---- module ------------------------------------------------------------ */

/* Module unload (and a failed load): the list is moved out under the lock. */
static void siov_destroy_all(void)
{
	struct siov_parent *p, *tmp;
	LIST_HEAD(doomed);

	mutex_lock(&siov_lock);
	siov_unloading = true;
	list_splice_init(&siov_parents, &doomed);
	list_for_each_entry(p, &doomed, node)
		siov_parent_mark_dying(p);
	mutex_unlock(&siov_lock);

	list_for_each_entry_safe_reverse(p, tmp, &doomed, node) {
		list_del_init(&p->node);
		siov_parent_destroy(p);
	}
	/* removals started by remove_parent writers */
	flush_workqueue(siov_wq);
}

static int __init siov_init(void)
{
	struct siov_parent *p;
	struct path path;
	unsigned int i;
	int ret;

	if (!siov_def_wqs || siov_def_wqs > SIOV_MAX_WQS ||
	    !siov_def_slots || siov_def_slots > SIOV_MAX_SLOTS ||
	    siov_nr_parents > SIOV_MAX_PARENTS) {
		pr_err("parameters out of range: parents<=%d, 1<=wqs<=%d, 1<=swq_slots<=%d\n",
		       SIOV_MAX_PARENTS, SIOV_MAX_WQS, SIOV_MAX_SLOTS);
		return -EINVAL;
	}

	/*
	 * The real idxd driver may register a class of this name one day (or
	 * an out-of-tree one does): class_register() would fail with a kobject
	 * warning, so say clearly what is wrong instead. EBUSY, not EEXIST:
	 * modprobe takes EEXIST for "already loaded" and reports success.
	 */
	if (!kern_path("/sys/class/" SIOV_CLASS_NAME, 0, &path)) {
		path_put(&path);
		pr_err("a device class named \"" SIOV_CLASS_NAME "\" already exists (an idxd driver?); this driver needs that name for its parents: not loading\n");
		return -EBUSY;
	}

	siov_wq = alloc_workqueue("siov_mdev", WQ_UNBOUND, 0);
	if (!siov_wq)
		return -ENOMEM;
	ret = mdev_register_driver(&siov_mdev_driver);
	if (ret)
		goto err_wq;
	ret = class_register(&siov_class);
	if (ret)
		goto err_driver;

	for (i = 0; i < siov_nr_parents; i++) {
		mutex_lock(&siov_lock);
		p = siov_parent_create(siov_def_wqs, siov_def_slots);
		if (!IS_ERR(p))
			list_add_tail(&p->node, &siov_parents);
		mutex_unlock(&siov_lock);
		if (IS_ERR(p)) {
			ret = PTR_ERR(p);
			goto err_parents;
		}
	}
	return 0;

err_parents:
	siov_destroy_all();
	class_unregister(&siov_class);
err_driver:
	mdev_unregister_driver(&siov_mdev_driver);
err_wq:
	destroy_workqueue(siov_wq);
	return ret;
}

/*
 * Unload with mdevs present removes them (and the host netdevs) cleanly.
 * While a VFIO device fd is open the VFIO core holds a reference on this
 * module, so rmmod fails with EBUSY instead of waiting.
 */
static void __exit siov_exit(void)
{
	siov_destroy_all();
	/* waits for add_parent/remove_parent writes still in flight */
	class_unregister(&siov_class);
	mdev_unregister_driver(&siov_mdev_driver);
	destroy_workqueue(siov_wq);
	ida_destroy(&siov_ida);
}

module_init(siov_init);
module_exit(siov_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("SIOV mdev parent with a work-queue pool shared by mdevs and host netdevs/WQs");
MODULE_AUTHOR("The siovd authors");
MODULE_SOFTDEP("pre: vfio_iommu_type1");
