# The bundled mdev parent driver is built by Kbuild, not automake; this
# fragment only hooks it into `make` and `make dist`. Owned by kernel-module/.
EXTRA_DIST += \
	kernel-module/Kbuild \
	kernel-module/Makefile \
	kernel-module/README.md \
	kernel-module/dkms.conf \
	kernel-module/siov_mdev.c \
	kernel-module/Documentation/ABI/testing/sysfs-driver-siov_mdev

if BUILD_KMOD
all-local: kernel-module-build
clean-local: kernel-module-clean
endif

# Kbuild wants the sources in the folder it builds; VPATH builds get a copy.
kernel-module-build:
	$(AM_V_GEN)$(MKDIR_P) kernel-module && \
	if test "$(abs_srcdir)" != "$(abs_builddir)"; then \
		cp -f $(srcdir)/kernel-module/Kbuild $(srcdir)/kernel-module/siov_mdev.c kernel-module/; \
	fi && \
	$(MAKE) -C $(KERNEL_HEADERS) M=$(abs_builddir)/kernel-module modules
kernel-module-clean:
	-test -z "$(KERNEL_HEADERS)" || $(MAKE) -C $(KERNEL_HEADERS) M=$(abs_builddir)/kernel-module clean
.PHONY: kernel-module-build kernel-module-clean
