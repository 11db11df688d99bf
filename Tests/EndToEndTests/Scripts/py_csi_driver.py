#!/usr/bin/env python3
"""An independent CSI driver written with Python grpcio, for Ferry's end-to-end interop tests
(Tests/EndToEndTests/PythonDriverEndToEndTests.swift). Stubs come from proto/csi.proto via grpc_tools
(`gen`), as Tests/CSITests/Scripts/csi_peer.py does.

  py_csi_driver.py gen <out-dir> <proto-dir>
  py_csi_driver.py serve <socket> <gen-dir> <state-dir>

Driver `py.csi.ferry.test`, Identity + Controller services, state in <state-dir>:
  volumes/<id>.json   {"id", "name", "capacity", "source": {"snapshot"|"volume": id} | null}
  data/<id>/          a volume's files (a restore copies the snapshot's files, a clone the source volume's)
  snapshots/<id>/     snapshot data the test seeds (ids are snapshot handles)
  faults.json         optional, re-read on every hooked call: [{"method": "CreateVolume", "code": "UNAVAILABLE",
                      "message": "...", "count": 2} | {"method": ..., "delay": 2.5, "count": 1} |
                      {"method": ..., "hold": true}]  (hold: wait while the file still holds that fault);
                      each call decrements `count` (a fault without count applies until removed)
  calls.log           one line per hooked call: "<method> <name> <unix time>"

CreateVolume is idempotent by name (same capacity and source → the same volume; otherwise ALREADY_EXISTS); a
missing snapshot/volume source is NOT_FOUND, a capacity below the source's OUT_OF_RANGE; the response echoes the
content source. DeleteVolume is idempotent. ListVolumes lists every volume.
"""
import concurrent.futures
import json
import os
import shutil
import signal
import sys
import threading
import time
import uuid

LOCK = threading.Lock()


def gen(out_dir, proto_dir):
    from grpc_tools import protoc
    import grpc_tools
    include = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    rc = protoc.main(["protoc", f"-I{proto_dir}", f"-I{include}", f"--python_out={out_dir}",
                      f"--grpc_python_out={out_dir}", os.path.join(proto_dir, "csi.proto")])
    sys.exit(rc)


def serve(socket_path, gen_dir, state):
    import grpc
    sys.path.insert(0, gen_dir)
    import csi_pb2 as pb
    import csi_pb2_grpc as rpc

    for d in ("volumes", "data", "snapshots"):
        os.makedirs(os.path.join(state, d), exist_ok=True)
    faults_path = os.path.join(state, "faults.json")

    def take_fault(method):
        """The first fault for `method` (its count decremented in the file), or None."""
        with LOCK:
            try:
                with open(faults_path) as f:
                    faults = json.load(f)
            except (OSError, ValueError):
                faults = []
            for i, fault in enumerate(faults):
                if fault.get("method") != method:
                    continue
                if "count" in fault:
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        faults.pop(i)
                    tmp = faults_path + ".tmp"
                    with open(tmp, "w") as f:
                        json.dump(faults, f)
                    os.replace(tmp, faults_path)
                return fault
        return None

    def holding(method):
        try:
            with open(faults_path) as f:
                return any(x.get("method") == method and x.get("hold") for x in json.load(f))
        except (OSError, ValueError):
            return False

    def hook(method, name, context):
        with LOCK:
            with open(os.path.join(state, "calls.log"), "a") as f:
                f.write(f"{method} {name} {time.time():.6f}\n")
        fault = take_fault(method)
        if fault is None:
            return
        if fault.get("hold"):
            while holding(method) and context.is_active():
                time.sleep(0.02)
        elif "delay" in fault:
            time.sleep(float(fault["delay"]))
        else:
            context.abort(getattr(grpc.StatusCode, fault["code"]), fault.get("message", "injected"))

    def volume_path(vid):
        return os.path.join(state, "volumes", vid + ".json")

    def load_volumes():
        out = []
        for entry in sorted(os.listdir(os.path.join(state, "volumes"))):
            if entry.endswith(".json"):
                with open(os.path.join(state, "volumes", entry)) as f:
                    out.append(json.load(f))
        return out

    def source_of(request):
        src = request.volume_content_source
        kind = src.WhichOneof("type")
        if kind == "snapshot":
            return {"snapshot": src.snapshot.snapshot_id}
        if kind == "volume":
            return {"volume": src.volume.volume_id}
        return None

    def as_volume(rec):
        cs = None
        if rec["source"] and "snapshot" in rec["source"]:
            cs = pb.VolumeContentSource(snapshot=pb.VolumeContentSource.SnapshotSource(snapshot_id=rec["source"]["snapshot"]))
        elif rec["source"] and "volume" in rec["source"]:
            cs = pb.VolumeContentSource(volume=pb.VolumeContentSource.VolumeSource(volume_id=rec["source"]["volume"]))
        return pb.Volume(volume_id=rec["id"], capacity_bytes=rec["capacity"], content_source=cs,
                         volume_context={"impl": "grpcio"})

    class Identity(rpc.IdentityServicer):
        def GetPluginInfo(self, request, context):
            return pb.GetPluginInfoResponse(name="py.csi.ferry.test", vendor_version="0.9.1",
                                            manifest={"impl": "grpcio"})

        def GetPluginCapabilities(self, request, context):
            return pb.GetPluginCapabilitiesResponse(capabilities=[
                pb.PluginCapability(service=pb.PluginCapability.Service(
                    type=pb.PluginCapability.Service.CONTROLLER_SERVICE))])

        def Probe(self, request, context):
            return pb.ProbeResponse(ready={"value": True})

    class Controller(rpc.ControllerServicer):
        def ControllerGetCapabilities(self, request, context):
            T = pb.ControllerServiceCapability.RPC
            return pb.ControllerGetCapabilitiesResponse(capabilities=[
                pb.ControllerServiceCapability(rpc=T(type=t)) for t in
                (T.CREATE_DELETE_VOLUME, T.CREATE_DELETE_SNAPSHOT, T.CLONE_VOLUME, T.LIST_VOLUMES)])

        def CreateVolume(self, request, context):
            if not request.name:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "name is required")
            hook("CreateVolume", request.name, context)
            capacity = request.capacity_range.required_bytes or (1 << 30)
            source = source_of(request)
            with LOCK:
                for rec in load_volumes():
                    if rec["name"] == request.name:
                        if rec["capacity"] < capacity or rec["source"] != source:
                            context.abort(grpc.StatusCode.ALREADY_EXISTS,
                                          f"volume {request.name} exists with another capacity or source")
                        return pb.CreateVolumeResponse(volume=as_volume(rec))
                vid = "pyvol-" + uuid.uuid4().hex[:12]
                target = os.path.join(state, "data", vid)
                if source and "snapshot" in source:
                    origin = os.path.join(state, "snapshots", source["snapshot"])
                    if not os.path.isdir(origin):
                        context.abort(grpc.StatusCode.NOT_FOUND, f"snapshot {source['snapshot']} not found")
                    shutil.copytree(origin, target)
                elif source and "volume" in source:
                    origin_rec = next((r for r in load_volumes() if r["id"] == source["volume"]), None)
                    if origin_rec is None:
                        context.abort(grpc.StatusCode.NOT_FOUND, f"volume {source['volume']} not found")
                    if capacity < origin_rec["capacity"]:
                        context.abort(grpc.StatusCode.OUT_OF_RANGE, "capacity below the source volume's")
                    shutil.copytree(os.path.join(state, "data", source["volume"]), target)
                else:
                    os.makedirs(target)
                rec = {"id": vid, "name": request.name, "capacity": capacity, "source": source}
                tmp = volume_path(vid) + ".tmp"
                with open(tmp, "w") as f:
                    json.dump(rec, f)
                os.replace(tmp, volume_path(vid))
                return pb.CreateVolumeResponse(volume=as_volume(rec))

        def DeleteVolume(self, request, context):
            hook("DeleteVolume", request.volume_id, context)
            with LOCK:
                try:
                    os.remove(volume_path(request.volume_id))
                except FileNotFoundError:
                    pass
                shutil.rmtree(os.path.join(state, "data", request.volume_id), ignore_errors=True)
            return pb.DeleteVolumeResponse()

        def ListVolumes(self, request, context):
            with LOCK:
                return pb.ListVolumesResponse(entries=[
                    pb.ListVolumesResponse.Entry(volume=as_volume(r)) for r in load_volumes()])

    server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=16))
    rpc.add_IdentityServicer_to_server(Identity(), server)
    rpc.add_ControllerServicer_to_server(Controller(), server)
    server.add_insecure_port("unix://" + socket_path)
    server.start()
    signal.signal(signal.SIGTERM, lambda *_: server.stop(0))
    print("ready", flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "gen":
        gen(sys.argv[2], sys.argv[3])
    elif mode == "serve":
        serve(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(f"unknown mode {mode}")
