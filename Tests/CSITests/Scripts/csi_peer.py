#!/usr/bin/env python3
"""A CSI peer built on Python grpcio, for Ferry's interop tests (Tests/CSITests/InteropTests.swift).

  csi_peer.py gen <out-dir> <proto-dir>   generate Python stubs from proto/csi.proto
  csi_peer.py serve <socket> <gen-dir>    serve Identity/Controller/Node until SIGTERM
  csi_peer.py client <socket> <gen-dir>   run the client scenarios against a Ferry server, print JSON results

Server behaviour (CreateVolume by name): "not-found" -> NOT_FOUND with details; "slow" -> sleeps 10 s;
"big-<n>" -> a response whose volume_context holds <n> bytes; otherwise the volume echoes the request's
secrets as volume_context, its content source (oneof) and capacity.
"""
import concurrent.futures
import json
import os
import signal
import sys
import time


def gen(out_dir, proto_dir):
    from grpc_tools import protoc
    import grpc_tools
    include = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    rc = protoc.main(["protoc", f"-I{proto_dir}", f"-I{include}", f"--python_out={out_dir}",
                      f"--grpc_python_out={out_dir}", os.path.join(proto_dir, "csi.proto")])
    sys.exit(rc)


def load(gen_dir):
    sys.path.insert(0, gen_dir)
    import csi_pb2
    import csi_pb2_grpc
    return csi_pb2, csi_pb2_grpc


def serve(socket_path, gen_dir):
    import grpc
    pb, rpc = load(gen_dir)

    class Identity(rpc.IdentityServicer):
        def GetPluginInfo(self, request, context):
            return pb.GetPluginInfoResponse(name="py.csi.ferry.test", vendor_version="0.9.1",
                                            manifest={"impl": "grpcio"})

        def GetPluginCapabilities(self, request, context):
            return pb.GetPluginCapabilitiesResponse(capabilities=[
                pb.PluginCapability(service=pb.PluginCapability.Service(
                    type=pb.PluginCapability.Service.CONTROLLER_SERVICE)),
                pb.PluginCapability(volume_expansion=pb.PluginCapability.VolumeExpansion(
                    type=pb.PluginCapability.VolumeExpansion.ONLINE)),
            ])

        def Probe(self, request, context):
            return pb.ProbeResponse(ready={"value": True})

    class Controller(rpc.ControllerServicer):
        def CreateVolume(self, request, context):
            if request.name == "not-found":
                context.abort(grpc.StatusCode.NOT_FOUND, "snapshot snap-missing not found")
            if request.name == "slow":
                time.sleep(10)
            if request.name.startswith("big-"):
                size = int(request.name[4:])
                return pb.CreateVolumeResponse(volume=pb.Volume(volume_id="big", volume_context={"x": "y" * size}))
            return pb.CreateVolumeResponse(volume=pb.Volume(
                volume_id="py-" + request.name, capacity_bytes=request.capacity_range.required_bytes,
                volume_context=dict(request.secrets), content_source=request.volume_content_source,
                accessible_topology=list(request.accessibility_requirements.preferred)))

        def ControllerGetCapabilities(self, request, context):
            T = pb.ControllerServiceCapability.RPC
            return pb.ControllerGetCapabilitiesResponse(capabilities=[
                pb.ControllerServiceCapability(rpc=T(type=T.CREATE_DELETE_VOLUME)),
                pb.ControllerServiceCapability(rpc=T(type=T.CREATE_DELETE_SNAPSHOT)),
                pb.ControllerServiceCapability(rpc=T(type=T.CLONE_VOLUME)),
            ])

    class Node(rpc.NodeServicer):
        def NodeGetCapabilities(self, request, context):
            T = pb.NodeServiceCapability.RPC
            return pb.NodeGetCapabilitiesResponse(capabilities=[
                pb.NodeServiceCapability(rpc=T(type=T.STAGE_UNSTAGE_VOLUME))])

        def NodeGetInfo(self, request, context):
            return pb.NodeGetInfoResponse(node_id="py-node", max_volumes_per_node=7,
                                          accessible_topology=pb.Topology(segments={"zone": "z1"}))

    server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=32))
    rpc.add_IdentityServicer_to_server(Identity(), server)
    rpc.add_ControllerServicer_to_server(Controller(), server)
    rpc.add_NodeServicer_to_server(Node(), server)
    server.add_insecure_port("unix://" + socket_path)
    server.start()
    signal.signal(signal.SIGTERM, lambda *_: server.stop(0))
    print("ready", flush=True)
    server.wait_for_termination()


def client(socket_path, gen_dir):
    import grpc
    pb, rpc = load(gen_dir)
    results = {}
    channel = grpc.insecure_channel("unix://" + socket_path,
                                    options=[("grpc.max_receive_message_length", 8 * 1024 * 1024)])
    identity, controller = rpc.IdentityStub(channel), rpc.ControllerStub(channel)
    mount = pb.VolumeCapability(mount=pb.VolumeCapability.MountVolume(fs_type="ext4"),
                                access_mode=pb.VolumeCapability.AccessMode(
                                    mode=pb.VolumeCapability.AccessMode.SINGLE_NODE_WRITER))

    def status(fn):
        try:
            fn()
            return {"code": "OK"}
        except grpc.RpcError as e:
            return {"code": e.code().name, "details": e.details()}

    info = identity.GetPluginInfo(pb.GetPluginInfoRequest(), timeout=60)
    results["plugin_name"] = info.name
    results["manifest"] = dict(info.manifest)

    # Secrets map and the VolumeContentSource oneof; the driver has snapshot "snap-py" seeded.
    created = controller.CreateVolume(pb.CreateVolumeRequest(
        name="py-vol", capacity_range=pb.CapacityRange(required_bytes=3 << 30), volume_capabilities=[mount],
        secrets={"user": "py", "token": "t0k3n"},
        volume_content_source=pb.VolumeContentSource(snapshot=pb.VolumeContentSource.SnapshotSource(
            snapshot_id="snap-py"))), timeout=60)
    results["created_source_case"] = created.volume.content_source.WhichOneof("type")
    results["created_source_id"] = created.volume.content_source.snapshot.snapshot_id
    results["created_capacity"] = created.volume.capacity_bytes
    results["created_topology"] = [dict(t.segments) for t in created.volume.accessible_topology]

    results["missing_source"] = status(lambda: controller.CreateVolume(pb.CreateVolumeRequest(
        name="py-missing", volume_capabilities=[mount],
        volume_content_source=pb.VolumeContentSource(volume=pb.VolumeContentSource.VolumeSource(
            volume_id="vol-missing"))), timeout=60))
    results["injected_failure"] = status(lambda: controller.DeleteVolume(
        pb.DeleteVolumeRequest(volume_id="x"), timeout=60))
    results["deadline"] = status(lambda: identity.Probe(pb.ProbeRequest(), timeout=0.2))

    limit = 4 * 1024 * 1024
    near = pb.CreateVolumeRequest(name="py-near", volume_capabilities=[mount], parameters={"blob": "a" * (limit - 1024)})
    over = pb.CreateVolumeRequest(name="py-over", volume_capabilities=[mount], parameters={"blob": "a" * (limit + 1024)})
    results["near_limit_request_bytes"] = near.ByteSize()
    results["near_limit"] = status(lambda: controller.CreateVolume(near, timeout=60))
    results["over_limit"] = status(lambda: controller.CreateVolume(over, timeout=60))

    def one(i):
        r = controller.CreateVolume(pb.CreateVolumeRequest(name=f"py-c{i}", volume_capabilities=[mount],
                                                           capacity_range=pb.CapacityRange(required_bytes=i + 1)),
                                    timeout=60)
        return r.volume.capacity_bytes == i + 1
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        results["concurrent_ok"] = sum(pool.map(one, range(64)))

    raw = channel.unary_unary("/csi.v1.Controller/CreateVolume", request_serializer=None,
                              response_deserializer=None)
    results["malformed"] = status(lambda: raw(b"\x0a\x05A", timeout=60))
    results["unknown_method"] = status(lambda: channel.unary_unary("/csi.v1.Identity/Nope")(b"", timeout=60))
    results["probe_after_errors"] = identity.Probe(pb.ProbeRequest(), timeout=60).ready.value
    print(json.dumps(results, sort_keys=True))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "gen":
        gen(sys.argv[2], sys.argv[3])
    elif mode == "serve":
        serve(sys.argv[2], sys.argv[3])
    elif mode == "client":
        client(sys.argv[2], sys.argv[3])
    else:
        sys.exit(f"unknown mode {mode}")
