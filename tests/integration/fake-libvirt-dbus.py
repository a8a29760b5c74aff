#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A stand-in for libvirt-dbus on a test's private system bus: owns
org.libvirt and answers the two things the Cockpit page asks it, the
org.libvirt.Connect object's ListDomains(u flags) -> ao at /org/libvirt/QEMU
and each domain's org.libvirt.Domain.Name property.

    fake-libvirt-dbus.py NAME...    (DBUS_SYSTEM_BUS_ADDRESS: the bus)
Prints "ready" once it owns the name; runs until SIGTERM."""

import signal
import sys

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

DOMAIN = "org.libvirt.Domain"


class Domain(dbus.service.Object):
    def __init__(self, bus, path, name):
        super().__init__(bus, path)
        self.name = name

    @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature="ss", out_signature="v")
    def Get(self, iface, prop):
        if iface == DOMAIN and prop == "Name":
            return dbus.String(self.name)
        raise dbus.exceptions.DBusException("no property %s.%s" % (iface, prop),
                                            name="org.freedesktop.DBus.Error.UnknownProperty")

    @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        return dbus.Dictionary({"Name": dbus.String(self.name)} if iface == DOMAIN else {}, signature="sv")


class Connect(dbus.service.Object):
    def __init__(self, bus, paths):
        super().__init__(bus, "/org/libvirt/QEMU")
        self.paths = paths

    @dbus.service.method("org.libvirt.Connect", in_signature="u", out_signature="ao")
    def ListDomains(self, flags):
        return dbus.Array(self.paths, signature="o")


def main():
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.SystemBus()
    keep = []
    paths = []
    for i, name in enumerate(sys.argv[1:]):
        path = "/org/libvirt/QEMU/domain/_%d" % i
        keep.append(Domain(bus, path, name))
        paths.append(dbus.ObjectPath(path))
    keep.append(Connect(bus, paths))
    owner = dbus.service.BusName("org.libvirt", bus, do_not_queue=True)
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    print("ready", flush=True)
    loop.run()
    del owner


if __name__ == "__main__":
    main()
