// SPDX-License-Identifier: GPL-2.0
/*
 * idxd_class_stub: registers an empty device class named "idxd", as an idxd
 * driver that registered one would. tests/vm/kmod loads it to check that
 * siov_mdev then refuses to load, saying why.
 */
#include <linux/device.h>
#include <linux/module.h>

static struct class stub_class = {
	.name = "idxd",
};

static int __init stub_init(void)
{
	return class_register(&stub_class);
}

static void __exit stub_exit(void)
{
	class_unregister(&stub_class);
}

module_init(stub_init);
module_exit(stub_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Test stub: a device class named idxd");
