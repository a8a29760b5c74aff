#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks that what siovd introspects matches dbus/*.xml member for member:
every method (with argument names, types and directions), property (type
and access) and signal of each org.siov1 interface, nothing missing and
nothing extra.

usage: check-introspection.py ADDRESS XMLDIR PATH...
Each PATH is introspected; every org.siov1.* interface found there is
compared with XMLDIR/<interface>.xml. All four interfaces must be seen."""

import subprocess
import sys
import xml.etree.ElementTree as ET


def members(iface):
    out = {}
    for el in iface:
        if el.tag == "method":
            args = tuple((a.get("name"), a.get("type"), a.get("direction", "in"))
                         for a in el.findall("arg"))
            out["method " + el.get("name")] = args
        elif el.tag == "signal":
            args = tuple((a.get("name"), a.get("type")) for a in el.findall("arg"))
            out["signal " + el.get("name")] = args
        elif el.tag == "property":
            out["property " + el.get("name")] = (el.get("type"), el.get("access"))
    return out


def main():
    address, xmldir, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
    failures, seen = 0, set()
    for path in paths:
        xml = subprocess.run(
            ["busctl", "--address=" + address, "introspect", "--xml-interface", "org.siov1", path],
            check=True, capture_output=True, text=True).stdout
        for iface in ET.fromstring(xml).findall("interface"):
            name = iface.get("name")
            if not name.startswith("org.siov1."):
                continue
            seen.add(name)
            contract = ET.parse(f"{xmldir}/{name}.xml").getroot().find("interface")
            want, got = members(contract), members(iface)
            for key in sorted(set(want) | set(got)):
                if key not in got:
                    print(f"FAIL: {name} at {path}: {key} is in the XML but siovd lacks it")
                    failures += 1
                elif key not in want:
                    print(f"FAIL: {name} at {path}: siovd has {key}, the XML does not")
                    failures += 1
                elif want[key] != got[key]:
                    print(f"FAIL: {name}: {key}: XML {want[key]} != siovd {got[key]}")
                    failures += 1
            print(f"checked {name} at {path}: {len(want)} members")
    for name in ("org.siov1.Manager", "org.siov1.Parent", "org.siov1.Type", "org.siov1.Device"):
        if name not in seen:
            print(f"FAIL: interface {name} was not found on any given path")
            failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
