# udev rules (boot-time provisioning comes with the lifecycle work).
dist_udevrules_DATA = udev/70-siov.rules
