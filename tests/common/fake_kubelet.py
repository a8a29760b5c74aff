# SPDX-License-Identifier: LGPL-2.1-or-later
# The kubelet's side of the device plugin API v1beta1, for the fake
# kubelets of tests/integration/test-device-plugin.py and
# tests/vm/device-plugin/kubelet.py (Debian's python3-grpcio; the message
# modules api_pb2/api_pb2_grpc are compiled by the caller from
# device-plugin/api.proto and handed to Kubelet and Watch).
import os
import queue
import threading
import time
from concurrent import futures

import grpc

passed = failed = 0


def check(name, ok, detail=""):
    """PASS:/FAIL: line; in the VM also one P/F line in $T_RESULTS."""
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
    print(("PASS: " if ok else "FAIL: ") + name + ("" if ok or detail == "" else ": " + str(detail)), flush=True)
    if os.environ.get("T_RESULTS"):
        with open(os.environ["T_RESULTS"], "a") as f:
            f.write("P\n" if ok else "F\n")
    return ok


def wait_for(pred, limit=20.0):
    """Polls pred until it is true; a generous limit, it measures nothing."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    return pred()


class Kubelet:
    """Registration on DIR/kubelet.sock; every RegisterRequest in requests."""

    def __init__(self, api_pb2, api_pb2_grpc, folder):
        kubelet = self

        class Registration(api_pb2_grpc.RegistrationServicer):
            def Register(self, request, context):
                kubelet.requests.put(request)
                return api_pb2.Empty()

        self.requests = queue.Queue()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        api_pb2_grpc.add_RegistrationServicer_to_server(Registration(), self.server)
        self.server.add_insecure_port("unix:" + os.path.join(folder, "kubelet.sock"))
        self.server.start()

    def stop(self):
        self.server.stop(0).wait()


class Watch:
    """ListAndWatch as the kubelet keeps it open: every list received."""

    def __init__(self, api_pb2, stub):
        self.lists = queue.Queue()
        self.stream = stub.ListAndWatch(api_pb2.Empty())
        self.last = None
        self.topology = {}
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        try:
            for resp in self.stream:
                # The topology first: a reader woken by the list reads it.
                self.topology = {d.ID: [n.ID for n in d.topology.nodes] for d in resp.devices}
                self.lists.put([(d.ID, d.health) for d in resp.devices])
        except grpc.RpcError:
            pass

    def wait(self, pred, limit=20.0):
        """The first list (from now, or the latest) for which pred is true."""
        end = time.monotonic() + limit
        if self.last is not None and pred(self.last):
            return self.last
        while time.monotonic() < end:
            try:
                self.last = self.lists.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                break
            if pred(self.last):
                return self.last
        return None
