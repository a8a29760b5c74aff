#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# A fake kubelet for siov-device-plugin, with Debian's python3-grpcio: the
# message definitions (device-plugin/api.proto) are compiled here, at test
# time, with protoc and grpc_python_plugin. It serves Registration on
# kubelet.sock, checks the registration, and calls the plugin as the
# kubelet does (ListAndWatch, GetPreferredAllocation, Allocate), checking
# every answer against siovd on a fake tree with the fake kernel.
#
# Run by test-device-plugin.sh, which starts the bus and siovd and passes:
#   PLUGIN CONFIG KUBELET_DIR PROTO_DIR WORK_DIR
# and exports ADDR, ROOT, SIOVCTL, SIOVD, FAKE_SYSFS_TOOL, SIOVD_PID_FILE,
# SIOVD_CMD (how to start siovd again).
# Prints PASS:/FAIL: lines; exits 1 if any check failed.

import json
import os
import queue
import signal
import subprocess
import sys
import time

PLUGIN, CONFIG, KUBELET_DIR, PROTO_DIR, WORK = sys.argv[1:6]
ENV = os.environ
RESOURCE = "siov.io/idxd-1dwq"
SOCKET = "siov-siov.io_idxd-1dwq.sock"
ENV_NAME = "MDEV_PCI_RESOURCE_SIOV_IO_IDXD-1DWQ"
VF_RESOURCE = "siov.io/nvme-vf"
VF_SOCKET = "siov-siov.io_nvme-vf.sock"
VF_ENV_NAME = "PCI_RESOURCE_SIOV_IO_NVME-VF"
PF = "0000:01:00.0"

# The message definitions, compiled now.
gen = os.path.join(WORK, "gen")
os.makedirs(gen, exist_ok=True)
subprocess.run(["protoc", "-I" + PROTO_DIR, "--python_out=" + gen, "--grpc_python_out=" + gen,
                "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin",
                os.path.join(PROTO_DIR, "api.proto")], check=True)
sys.dont_write_bytecode = True        # nothing written into the source tree
sys.path.insert(0, gen)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import grpc  # noqa: E402
import api_pb2  # noqa: E402
import api_pb2_grpc  # noqa: E402
import fake_kubelet  # noqa: E402
from fake_kubelet import check, wait_for  # noqa: E402


def siovctl_list():
    out = subprocess.run([ENV["SIOVCTL"], "--address=" + ENV["ADDR"], "--json", "list"],
                         capture_output=True, text=True)
    return json.loads(out.stdout) if out.returncode == 0 else []


def fake(*args):
    subprocess.run([ENV["FAKE_SYSFS_TOOL"], ENV["ROOT"]] + list(args), check=True)


def rescan():
    subprocess.run(["busctl", "--address=" + ENV["ADDR"], "call", "org.siov1", "/org/siov1",
                    "org.siov1.Manager", "Rescan"], check=True, capture_output=True)


def start_kubelet():
    k = fake_kubelet.Kubelet(api_pb2, api_pb2_grpc, KUBELET_DIR)
    return k, k


def check_registration(reg, what):
    got = {}
    end = time.monotonic() + 20
    while len(got) < 2 and time.monotonic() < end:
        try:
            r = reg.requests.get(timeout=max(0.01, end - time.monotonic()))
        except queue.Empty:
            break
        got[r.resource_name] = r
    check(what + ": both resources register", sorted(got) == sorted([RESOURCE, VF_RESOURCE]), list(got))
    want = {RESOURCE: SOCKET, VF_RESOURCE: VF_SOCKET}
    check(what + ": version v1beta1, endpoint, preferred allocation",
          all((r.version, r.endpoint, r.options.get_preferred_allocation_available) ==
              ("v1beta1", want[name], True) for name, r in got.items()) and got, got)
    time.sleep(0.3)
    check(what + ": once each", reg.requests.empty())


def Watch(stub):
    return fake_kubelet.Watch(api_pb2, stub)


siovd_pid = int(open(ENV["SIOVD_PID_FILE"]).read())
plugin_log = open(os.path.join(WORK, "plugin.log"), "w")
plugin = subprocess.Popen([PLUGIN, "--config=" + CONFIG], stdout=plugin_log, stderr=subprocess.STDOUT)
try:
    # The plugin serves before the kubelet is there, and registers when
    # kubelet.sock appears.
    sock = os.path.join(KUBELET_DIR, SOCKET)
    check("the plugin serves its resource on " + SOCKET, wait_for(lambda: os.path.exists(sock)))
    kubelet, reg = start_kubelet()
    check_registration(reg, "kubelet.sock created")

    channel = grpc.insecure_channel("unix:" + sock)
    stub = api_pb2_grpc.DevicePluginStub(channel)
    opts = stub.GetDevicePluginOptions(api_pb2.Empty(), timeout=10)
    check("GetDevicePluginOptions: preferred allocation, no PreStart",
          opts.get_preferred_allocation_available and not opts.pre_start_required, opts)

    watch = Watch(stub)
    first = watch.wait(lambda l: len(l) == 6)
    check("ListAndWatch: 6 free idxd-1dwq slots (4 of siov0, 2 of siov1), all Healthy",
          first is not None and all(h == "Healthy" for _, h in first), watch.last)
    topo = dict(watch.topology)
    check("each device's topology is its parent's NUMA node (siov0: 1, siov1: 0)",
          sorted(v[0] for v in topo.values() if v) == [0, 0, 1, 1, 1, 1], topo)
    mdevs = os.path.join(ENV["ROOT"], "sys/bus/mdev/devices")
    check("nothing is made before an Allocate", not os.path.isdir(mdevs) or not os.listdir(mdevs))
    ids = [i for i, _ in first or []]
    ids0 = [i for i in ids if topo.get(i) == [1]]
    ids1 = [i for i in ids if topo.get(i) == [0]]

    def preferred(must, size):
        r = stub.GetPreferredAllocation(api_pb2.PreferredAllocationRequest(container_requests=[
            api_pb2.ContainerPreferredAllocationRequest(available_deviceIDs=ids, must_include_deviceIDs=must,
                                                        allocation_size=size)]), timeout=10)
        return list(r.container_responses[0].deviceIDs)

    got = preferred([], 2)
    check("GetPreferredAllocation: 2 IDs of one parent, the one offering the most", len(got) == 2 and
          all(i in ids0 for i in got), got)
    got = preferred(ids1[:1], 2)
    check("GetPreferredAllocation: with a must-include ID, it first and its parent's other one",
          got == ids1[:2], (got, ids1))
    got = preferred(ids1[:1], 3)
    check("GetPreferredAllocation: more than its parent has: the rest from another",
          len(got) == 3 and got[:2] == ids1[:2] and got[2] in ids0, got)

    # --- Allocate makes the mdev ------------------------------------------
    dev = ids0[0]
    resp = stub.Allocate(api_pb2.AllocateRequest(container_requests=[
        api_pb2.ContainerAllocateRequest(devices_ids=[dev])]), timeout=30)
    c = resp.container_responses[0]
    check("Allocate: " + ENV_NAME + " is the mdev's UUID", dict(c.envs).get(ENV_NAME) == dev, dict(c.envs))
    specs = sorted((d.host_path, d.container_path, d.permissions) for d in c.devices)
    check("Allocate: /dev/vfio/<group> and /dev/vfio/vfio", specs ==
          [("/dev/vfio/10", "/dev/vfio/10", "mrw"), ("/dev/vfio/vfio", "/dev/vfio/vfio", "mrw")], specs)
    check("the mdev exists in sysfs with that UUID",
          os.path.isdir(os.path.join(ENV["ROOT"], "sys/bus/mdev/devices", dev)))
    mine = [d for d in siovctl_list() if d["uuid"] == dev]
    check("siovctl list --json: owner siov-device-plugin, persistent", mine and mine[0]["owner"] ==
          "siov-device-plugin" and mine[0]["persistent"], mine)
    out = subprocess.run([ENV["SIOVCTL"], "--address=" + ENV["ADDR"], "list"], capture_output=True, text=True)
    check("siovctl list: owner=siov-device-plugin in DETAILS",
          any(dev in l and "owner=siov-device-plugin" in l for l in out.stdout.splitlines()), out.stdout)
    lst = watch.wait(lambda l: len(l) == 6 and dev in [i for i, _ in l])
    check("the list keeps the ID: 5 slots and the device made", lst is not None, watch.last)

    # --- a VF of the PF: advertised by its siovd UUID, taken on Allocate ---
    vf_sock = os.path.join(KUBELET_DIR, VF_SOCKET)
    vf_stub = api_pb2_grpc.DevicePluginStub(grpc.insecure_channel("unix:" + vf_sock))
    vf_watch = Watch(vf_stub)
    vfs = vf_watch.wait(lambda l: len(l) == 2)
    check("ListAndWatch (vf): the PF's 2 free VFs", vfs is not None, vf_watch.last)
    by_uuid = {d["uuid"]: d for d in siovctl_list()}
    vf_id = vfs[1][0] if vfs else ""
    check("... by their siovd UUIDs", vfs and all(i in by_uuid and by_uuid[i]["kind"] == "vf" for i, _ in vfs), vfs)
    resp = vf_stub.Allocate(api_pb2.AllocateRequest(container_requests=[
        api_pb2.ContainerAllocateRequest(devices_ids=[vf_id])]), timeout=30)
    c = resp.container_responses[0]
    addr = by_uuid.get(vf_id, {}).get("address")
    check("Allocate (vf): " + VF_ENV_NAME + " is the VF's PCI address (the very VF advertised)",
          addr and dict(c.envs).get(VF_ENV_NAME) == addr, (dict(c.envs), addr))
    vgroup = os.path.basename(os.readlink(os.path.join(ENV["ROOT"], "sys/bus/pci/devices", addr or "-",
                                                       "iommu_group"))) if addr else "?"
    specs = sorted(d.host_path for d in c.devices)
    check("Allocate (vf): its /dev/vfio/<group> and /dev/vfio/vfio", specs ==
          sorted(["/dev/vfio/" + vgroup, "/dev/vfio/vfio"]), specs)
    mine = [d for d in siovctl_list() if d["uuid"] == vf_id]
    check("the VF is on vfio-pci, owner siov-device-plugin", mine and mine[0]["driver"] == "vfio-pci" and
          mine[0]["owner"] == "siov-device-plugin", mine)

    # --- siovd restarts: the owner survives, the plugin reads again -------
    os.kill(siovd_pid, signal.SIGTERM)
    wait_for(lambda: not os.path.exists("/proc/%d" % siovd_pid) or
             open("/proc/%d/stat" % siovd_pid).read().split()[2] == "Z", 10)
    siovd = subprocess.Popen(ENV["SIOVD_CMD"], shell=True)
    open(ENV["SIOVD_PID_FILE"], "w").write(str(siovd.pid))
    mine = wait_for(lambda: [d for d in siovctl_list() if d["uuid"] == dev], 20)
    check("after a siovd restart the device still has its owner", mine and mine[0]["owner"] ==
          "siov-device-plugin", mine)

    # --- a create the kernel refuses fails the Allocate with siovd's words -
    open(os.path.join(ENV["ROOT"], "fake-kernel/fail-create"), "w").write("ENOSPC\n")
    try:
        stub.Allocate(api_pb2.AllocateRequest(container_requests=[
            api_pb2.ContainerAllocateRequest(devices_ids=[ids0[1]])]), timeout=30)
        check("Allocate fails when siovd cannot create", False, "it succeeded")
    except grpc.RpcError as e:
        check("Allocate fails when siovd cannot create, with siovd's error",
              "NoCapacity" in e.details() or "KernelError" in e.details(), e.details())
    try:
        os.unlink(os.path.join(ENV["ROOT"], "fake-kernel/fail-create"))
    except FileNotFoundError:
        pass

    # --- host netdevs take the pool: the list shrinks ----------------------
    fake("add-siov-parent", "siov0", "--total", "4", "--free", "1", "--mdev-dwq", "1", "--host-netdev", "2",
         "--swq-slots", "4")
    rescan()
    lst = watch.wait(lambda l: len(l) == 4)
    check("host netdevs take 2 of siov0's WQs: the list shrinks to the device, 1 slot of siov0, 2 of siov1",
          lst is not None and dev in [i for i, _ in lst], watch.last)

    # --- the kubelet restarts: the plugin registers again ----------------
    kubelet.stop()
    for f in ("kubelet.sock", SOCKET, VF_SOCKET):     # the kubelet removes every plugin's socket
        try:
            os.unlink(os.path.join(KUBELET_DIR, f))
        except FileNotFoundError:
            pass
    kubelet, reg = start_kubelet()
    check_registration(reg, "kubelet restarted")
    check("the plugin serves again on a new socket", wait_for(lambda: os.path.exists(sock)))
    channel = grpc.insecure_channel("unix:" + sock)
    stub = api_pb2_grpc.DevicePluginStub(channel)
    watch = Watch(stub)
    lst = watch.wait(lambda l: len(l) == 4)
    check("the new ListAndWatch has the same list", lst is not None, watch.last)

    # --- give-back after the idle time (3 s) -------------------------------
    gone = wait_for(lambda: not os.path.exists(os.path.join(ENV["ROOT"], "sys/bus/mdev/devices", dev)), 20)
    check("the device no VFIO user holds is given back after the idle time", gone)
    check("... and its definition is gone", wait_for(lambda: not [d for d in siovctl_list() if d["uuid"] == dev]))
    lst = watch.wait(lambda l: len(l) == 4 and dev in [i for i, h in l if h == "Healthy"])
    check("its ID is advertised again as a free slot (the pool has it back)", lst is not None, watch.last)
    vf_back = wait_for(lambda: [d for d in siovctl_list() if d["uuid"] == vf_id and d["owner"] == "" and
                                d["driver"] != "vfio-pci"], 20)
    check("the VF is given back too (released from vfio-pci, no owner)", vf_back, vf_back)

    # --- a parent goes away: its device Unhealthy, its slots gone ----------
    dev1 = ids1[0]
    stub.Allocate(api_pb2.AllocateRequest(container_requests=[
        api_pb2.ContainerAllocateRequest(devices_ids=[dev1])]), timeout=30)
    for rel in ("sys/devices/virtual/idxd/siov1", "sys/class/mdev_bus/siov1", "sys/class/idxd/siov1",
                "sys/bus/mdev/devices/" + dev1):
        fake("remove", rel)
    rescan()
    lst = watch.wait(lambda l: (dev1, "Unhealthy") in l and not any(i in ids1[1:] for i, _ in l))
    check("siov1 removed: its device is Unhealthy, its free slots are gone", lst is not None, watch.last)
    lst = watch.wait(lambda l: dev1 not in [i for i, _ in l])
    check("... and the device, given back (its definition removed), leaves the list",
          lst is not None and not [d for d in siovctl_list() if d["uuid"] == dev1], watch.last)
finally:
    plugin.send_signal(signal.SIGTERM)
    try:
        rc = plugin.wait(10)
    except subprocess.TimeoutExpired:
        plugin.kill()
        rc = plugin.wait()
    check("the plugin exits cleanly on SIGTERM", rc == 0, rc)
    plugin_log.flush()
    log = open(os.path.join(WORK, "plugin.log")).read()
    check("... having let go of gRPC", "did not let go" not in log)
    check("each resource served twice (start, kubelet restart): no restart loop", log.count("serving on") == 4,
          log.count("serving on"))
    check("each resource registered twice", log.count("registered with the kubelet") == 4,
          log.count("registered with"))
    if fake_kubelet.failed:
        plugin_log.close()
        print("--- plugin log ---")
        print(open(os.path.join(WORK, "plugin.log")).read()[-4000:])

print("%d passed, %d failed" % (fake_kubelet.passed, fake_kubelet.failed))
sys.exit(1 if fake_kubelet.failed or not fake_kubelet.passed else 0)
