#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# The fake kubelet in the VM (tests/vm/device-plugin/guest.sh): the plugin
# against the bundled driver in the real kernel. Advertise → allocate → the
# mdev exists with the UUID in the env and its real IOMMU group in the
# device specs → host netdevs take the pool → the list shrinks → an Allocate
# that loses the race with a host claim fails with siovd's words →
# give-back after the idle time.
import os
import queue
import signal
import subprocess
import sys

sys.path.insert(0, "/opt/kubelet")
import grpc  # noqa: E402
import api_pb2  # noqa: E402
import api_pb2_grpc  # noqa: E402
import fake_kubelet  # noqa: E402
from fake_kubelet import check, wait_for  # noqa: E402

DIR = "/var/lib/kubelet/device-plugins"
SOCKET = os.path.join(DIR, "siov-siov.io_idxd-1dwq.sock")
ENV_NAME = "MDEV_PCI_RESOURCE_SIOV_IO_IDXD-1DWQ"
PARENT = "/sys/class/mdev_bus/siov0"


def available():
    return int(open(PARENT + "/mdev_supported_types/idxd-1dwq/available_instances").read())


reg = fake_kubelet.Kubelet(api_pb2, api_pb2_grpc, DIR)

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
    watch = fake_kubelet.Watch(api_pb2, stub)
    def wait_list(pred):
        return watch.wait(pred, 60)     # TCG on a loaded machine
    n = available()
    first = wait_list(lambda l: len(l) == n)
    check("ListAndWatch: one ID per available idxd-1dwq instance (%d, from the kernel)" % n, first, watch.last)
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
    check("host netdevs take %d WQs: the list is the device and 1 free slot" % (free - 1), lst, watch.last)

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
    check("the list is only the device made", lst, watch.last)
    open("/sys/class/idxd/siov0/host_netdevs", "w").write("0\n")

    gone = wait_for(lambda: not os.path.exists("/sys/bus/mdev/devices/" + dev), 60)
    check("given back after the idle time: the kernel removed the mdev", gone)
    check("the pool is whole again", wait_for(lambda: available() == n, 60), available())
finally:
    plugin.send_signal(signal.SIGTERM)
    try:
        rc = plugin.wait(20)
    except subprocess.TimeoutExpired:
        plugin.kill()
        rc = plugin.wait()
    check("the plugin exits cleanly", rc == 0, rc)
    if fake_kubelet.failed:
        log.close()
        print(open("/tmp/plugin.log").read()[-3000:])
sys.exit(1 if fake_kubelet.failed else 0)
