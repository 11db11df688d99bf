#!/usr/bin/env python3
"""The grpcio side of bench-grpc-roundtrip.sh: the same GetPluginInfo round trips as grpc-roundtrip-bench,
Python grpcio client -> Python grpcio server over a Unix socket.

  grpcio_bench.py serve <socket> <stub-dir>
  grpcio_bench.py client <socket> <stub-dir> [sequential-calls] [concurrent-callers] [calls-per-caller]
"""
import concurrent.futures
import json
import signal
import sys
import time


def main():
    mode, socket, stubs = sys.argv[1], sys.argv[2], sys.argv[3]
    sys.path.insert(0, stubs)
    import grpc
    import csi_pb2 as pb
    import csi_pb2_grpc as rpc

    if mode == "serve":
        class Identity(rpc.IdentityServicer):
            def GetPluginInfo(self, request, context):
                return pb.GetPluginInfoResponse(name="bench.csi.grpcio", vendor_version="1.0.0",
                                                manifest={"impl": "grpcio"})

        server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=16))
        rpc.add_IdentityServicer_to_server(Identity(), server)
        server.add_insecure_port("unix://" + socket)
        server.start()
        signal.signal(signal.SIGTERM, lambda *_: server.stop(0))
        print("ready", flush=True)
        server.wait_for_termination()
        return

    sequential = int(sys.argv[4]) if len(sys.argv) > 4 else 2000
    callers = int(sys.argv[5]) if len(sys.argv) > 5 else 16
    per_caller = int(sys.argv[6]) if len(sys.argv) > 6 else 500
    channel = grpc.insecure_channel("unix://" + socket)
    stub = rpc.IdentityStub(channel)
    stub.GetPluginInfo(pb.GetPluginInfoRequest(), timeout=30, wait_for_ready=True)
    for _ in range(200):
        stub.GetPluginInfo(pb.GetPluginInfoRequest())
    samples = []
    for _ in range(sequential):
        start = time.perf_counter_ns()
        stub.GetPluginInfo(pb.GetPluginInfoRequest())
        samples.append((time.perf_counter_ns() - start) / 1000.0)
    samples.sort()

    def pct(p):
        import math
        return samples[min(len(samples) - 1, max(0, math.ceil(p * len(samples)) - 1))]

    def caller(_):
        for _ in range(per_caller):
            stub.GetPluginInfo(pb.GetPluginInfoRequest())

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=callers) as pool:
        list(pool.map(caller, range(callers)))
    elapsed = time.perf_counter() - start
    print(json.dumps({"p50_us": pct(0.50), "p99_us": pct(0.99), "mean_us": sum(samples) / len(samples),
                      "calls_per_s": callers * per_caller / elapsed, "sequential_calls": sequential,
                      "concurrent_callers": callers}, sort_keys=True))


if __name__ == "__main__":
    main()
