#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# The fake kubelet in the VM (tests/vm/device-plugin/guest.sh): the plugin
# against the bundled driver in the real kernel. Advertise → allocate → the
# mdev exists with the UUID in the env and its real IOMMU group in the
# device specs → host netdevs take the pool → the list shrinks → an Allocate
# that loses the race with a host claim fails with siovd's words →
# give-back after the idle time.
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from concurrent import futures

sys.path.insert(0, "/opt/kubelet")
import grpc  # noqa: E402
import api_pb2  # noqa: E402
import api_pb2_grpc  # noqa: E402

DIR = "/var/lib/kubelet/device-plugins"
SOCKET = os.path.join(DIR, "siov-siov.io_idxd-1dwq.sock")
ENV_NAME = "MDEV_PCI_RESOURCE_SIOV_IO_IDXD-1DWQ"
PARENT = "/sys/class/mdev_bus/siov0"
results = open(os.environ["T_RESULTS"], "a")
failed = 0


def check(name, ok, detail=""):
    global failed
    print(("PASS: " if ok else "FAIL: ") + name + ("" if ok or not detail else ": " + str(detail)), flush=True)
    results.write("P\n" if ok else "F\n")
    results.flush()
    failed += 0 if ok else 1
    return ok


def wait_for(pred, limit=30.0):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    return pred()


def available():
    return int(open(PARENT + "/mdev_supported_types/idxd-1dwq/available_instances").read())


class Registration(api_pb2_grpc.RegistrationServicer):
    def __init__(self):
        self.requests = queue.Queue()

    def Register(self, request, context):
        self.requests.put(request)
        return api_pb2.Empty()


reg = Registration()
kubelet = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
api_pb2_grpc.add_RegistrationServicer_to_server(reg, kubelet)
kubelet.add_insecure_port("unix:" + os.path.join(DIR, "kubelet.sock"))
kubelet.start()

log = open("/tmp/plugin.log", "w")
plugin = subprocess.Popen(["siov-device-plugin"], stdout=log, stderr=subprocess.STDOUT)
try:
    try:
        r = reg.requests.get(timeout=30)
        check("the plugin registers siov.io/idxd-1dwq (v1beta1)",
              (r.version, r.resource_name) == ("v1beta1", "siov.io/idxd-1dwq"), r)
    except queue.Empty:
        check("the plugin registers", False, "no Register call in 30 s")
    stub = api_pb2_grpc.DevicePluginStub(grpc.insecure_channel("unix:" + SOCKET))
    lists = queue.Queue()

    def watch():
        try:
            for resp in stub.ListAndWatch(api_pb2.Empty()):
                lists.put([(d.ID, d.health) for d in resp.devices])
        except grpc.RpcError:
            pass

    threading.Thread(target=watch, daemon=True).start()
    last = [None]

    def wait_list(pred, limit=30.0):
        end = time.monotonic() + limit
        if last[0] is not None and pred(last[0]):
            return last[0]
        while time.monotonic() < end:
            try:
                last[0] = lists.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                break
            if pred(last[0]):
                return last[0]
        return None

    n = available()
    first = wait_list(lambda l: len(l) == n)
    check("ListAndWatch: one ID per available idxd-1dwq instance (%d, from the kernel)" % n, first, last[0])
    ids = [i for i, _ in first or []]

    resp = stub.Allocate(api_pb2.AllocateRequest(container_requests=[
        api_pb2.ContainerAllocateRequest(devices_ids=[ids[0]])]), timeout=60)
    c = resp.container_responses[0]
    dev = ids[0]
    check("Allocate: the mdev exists in the kernel", os.path.isdir("/sys/bus/mdev/devices/" + dev))
    check("Allocate: " + ENV_NAME + " is its UUID", dict(c.envs).get(ENV_NAME) == dev, dict(c.envs))
    group = os.path.basename(os.readlink("/sys/bus/mdev/devices/%s/iommu_group" % dev))
    specs = sorted(d.host_path for d in c.devices)
    check("Allocate: /dev/vfio/%s (its IOMMU group) and /dev/vfio/vfio" % group,
          specs == sorted(["/dev/vfio/" + group, "/dev/vfio/vfio"]), specs)
    check("the kernel's pool has one instance less", available() == n - 1, available())

    # Host netdevs take all but one of the free WQs: the list shrinks.
    free = available()
    open("/sys/class/idxd/siov0/host_netdevs", "w").write("%d\n" % (free - 1))
    lst = wait_list(lambda l: len(l) == 2)
    check("host netdevs take %d WQs: the list is the device and 1 free slot" % (free - 1), lst, last[0])

    # The host takes the last WQ as the kubelet allocates the last slot.
    # Who sees the claim first is the race: siovd (the create is refused,
    # NoCapacity in siovd's words) or the plugin (the slot is no longer
    # advertised). Either way the Allocate fails and nothing is made.
    slot = [i for i, _ in lst or [] if i != dev]
    open("/sys/class/idxd/siov0/host_netdevs", "w").write("%d\n" % free)
    try:
        stub.Allocate(api_pb2.AllocateRequest(container_requests=[
            api_pb2.ContainerAllocateRequest(devices_ids=slot[:1])]), timeout=60)
        check("an Allocate that loses the race with a host netdev fails", False, "it succeeded")
    except grpc.RpcError as e:
        d = e.details()
        check("an Allocate that loses the race with a host netdev fails (%s): %s" %
              ("siovd refused" if "NoCapacity" in d else "the plugin saw the claim first", d[:200]),
              "NoCapacity" in d or "taken meanwhile" in d, d)
    check("... and made nothing", len(os.listdir("/sys/bus/mdev/devices")) == 1)
    lst = wait_list(lambda l: [i for i, _ in l] == [dev])
    check("the list is only the device made", lst, last[0])
    open("/sys/class/idxd/siov0/host_netdevs", "w").write("0\n")

    gone = wait_for(lambda: not os.path.exists("/sys/bus/mdev/devices/" + dev))
    check("given back after the idle time: the kernel removed the mdev", gone)
    check("the pool is whole again", wait_for(lambda: available() == n), available())
finally:
    plugin.send_signal(signal.SIGTERM)
    try:
        rc = plugin.wait(20)
    except subprocess.TimeoutExpired:
        plugin.kill()
        rc = plugin.wait()
    check("the plugin exits cleanly", rc == 0, rc)
    if failed:
        log.close()
        print(open("/tmp/plugin.log").read()[-3000:])
sys.exit(1 if failed else 0)
