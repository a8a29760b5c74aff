// SPDX-License-Identifier: GPL-2.0
/*
 * Harness self-test module for tests/vm (not the bundled driver). It proves
 * that vm-run's --kmod path works end to end (vermagic, depmod, dependency
 * on Debian's mdev.ko) and that the guest kernel's mdev core can create and
 * remove a device. Parameters let the harness self-test provoke a kernel
 * WARN or an oops on purpose.
 */
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/mdev.h>
#include <linux/atomic.h>

static int warn;
module_param(warn, int, 0444);
MODULE_PARM_DESC(warn, "1: WARN at load (harness self-test)");
static int oops;
module_param(oops, int, 0444);
MODULE_PARM_DESC(oops, "1: NULL dereference at load (harness self-test)");

#define SMOKE_MAX 2

static struct platform_device *smoke_pdev;
static struct mdev_parent smoke_parent;
static struct mdev_type smoke_type = {
	.sysfs_name = "smoke",
	.pretty_name = "vm smoke",
};
static struct mdev_type *smoke_types[] = { &smoke_type };
static atomic_t smoke_used = ATOMIC_INIT(0);

static int smoke_probe(struct mdev_device *mdev)
{
	/* The core does no capacity check: claim a slot or refuse. */
	if (atomic_inc_return(&smoke_used) > SMOKE_MAX) {
		atomic_dec(&smoke_used);
		return -ENOSPC;
	}
	return 0;
}

static void smoke_remove(struct mdev_device *mdev)
{
	atomic_dec(&smoke_used);
}

static unsigned int smoke_get_available(struct mdev_type *mtype)
{
	return SMOKE_MAX - atomic_read(&smoke_used);
}

static struct mdev_driver smoke_driver = {
	.device_api = "vfio-pci",
	.probe = smoke_probe,
	.remove = smoke_remove,
	.get_available = smoke_get_available,
	.driver = {
		.name = "siov_vm_smoke",
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
	},
};

static int __init smoke_init(void)
{
	int ret;

	if (oops) {
		int *volatile p = NULL;

		pr_info("siov_vm_smoke: oops requested\n");
		return *p;
	}
	WARN(warn, "siov_vm_smoke: warning requested\n");

	ret = mdev_register_driver(&smoke_driver);
	if (ret)
		return ret;
	smoke_pdev = platform_device_register_simple("siov_vm_smoke", -1, NULL, 0);
	if (IS_ERR(smoke_pdev)) {
		ret = PTR_ERR(smoke_pdev);
		goto err_driver;
	}
	ret = mdev_register_parent(&smoke_parent, &smoke_pdev->dev, &smoke_driver,
				   smoke_types, ARRAY_SIZE(smoke_types));
	if (ret)
		goto err_pdev;
	return 0;

err_pdev:
	platform_device_unregister(smoke_pdev);
err_driver:
	mdev_unregister_driver(&smoke_driver);
	return ret;
}

static void __exit smoke_exit(void)
{
	mdev_unregister_parent(&smoke_parent);
	platform_device_unregister(smoke_pdev);
	mdev_unregister_driver(&smoke_driver);
}

module_init(smoke_init);
module_exit(smoke_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("tests/vm harness self-test mdev parent");
