import CSI
import Foundation
import GRPCTransport
import Kube

/// A pod's volumes on one node, set up and torn down as the kubelet's volume manager does
/// (`pkg/kubelet/volumemanager`), for the kinds the local cluster supports:
/// - `persistentVolumeClaim`: the claim must be Bound; a CSI PV of the local driver is staged
///   (NodeStageVolume at `DIR/kubelet/<node>/staging/<handle>`) and published (NodePublishVolume at
///   `DIR/kubelet/<node>/pods/<uid>/volumes/kubernetes.io~csi/<pv>/mount`) over the node plugin's socket; the
///   published path's target is what the container sees. `hostPath` and `local` PVs are used in place.
/// - `emptyDir` (a directory removed with the pod), `hostPath`, `configMap` and `secret` (files written from the
///   object, with `items` and `optional`).
/// Other kinds (projected, downwardAPI, ephemeral, …) are `FailedMount` with a clear message.
struct PodVolumes: Sendable {
    let pod: Pod
    let nodeName: String
    let kubeletDirectory: URL
    let client: KubeClient
    let node: NodeClient

    struct Prepared: Sendable {
        /// Volume name → host path the container's mounts bind.
        var paths: [String: String] = [:]
        /// Volume name → whether the volume itself is read-only (claim `readOnly`).
        var readOnly: [String: Bool] = [:]
        /// Published CSI volumes, for teardown.
        var published: [(volumeID: String, target: String, staging: String)] = []
    }

    var podDirectory: URL {
        kubeletDirectory.appendingPathComponent("pods/\(pod.metadata.uid ?? pod.name)")
    }

    func setUp() async throws(ContainerStartError) -> Prepared {
        var prepared = Prepared()
        for volume in pod.spec.volumes {
            guard let name: String = volume["name"] else { continue }
            let o = volume.object
            if let claim = o["persistentVolumeClaim"]?.object {
                try await claimVolume(name, claim, into: &prepared)
            } else if o["emptyDir"] != nil {
                let dir = podDirectory.appendingPathComponent("volumes/kubernetes.io~empty-dir/\(name)")
                try make(dir)
                prepared.paths[name] = dir.path
            } else if let host = o["hostPath"]?.object, let path = host["path"]?.string {
                let type = host["type"]?.string ?? ""
                if type == "DirectoryOrCreate" { try make(URL(fileURLWithPath: path)) }
                guard FileManager.default.fileExists(atPath: path) || type.isEmpty else {
                    throw ContainerStartError(reason: "FailedMount", message: "hostPath type check failed: \(path) does not exist")
                }
                if !FileManager.default.fileExists(atPath: path) { try make(URL(fileURLWithPath: path)) }
                prepared.paths[name] = path
            } else if let cm = o["configMap"]?.object {
                let dir = podDirectory.appendingPathComponent("volumes/kubernetes.io~configmap/\(name)")
                let data = try await configMapData(cm)
                try write(data, items: cm["items"]?.array, to: dir)
                prepared.paths[name] = dir.path
            } else if let secret = o["secret"]?.object {
                let dir = podDirectory.appendingPathComponent("volumes/kubernetes.io~secret/\(name)")
                let data = try await secretData(secret)
                try write(data, items: secret["items"]?.array, to: dir)
                prepared.paths[name] = dir.path
            } else {
                let kind = o.keys.filter { $0 != "name" }.sorted().first ?? "unknown"
                throw ContainerStartError(reason: "FailedMount",
                                          message: "volume \"\(name)\": \(kind) volumes are not supported by the local cluster's kubelet")
            }
        }
        return prepared
    }

    private func claimVolume(_ name: String, _ source: JSONObject, into prepared: inout Prepared) async throws(ContainerStartError) {
        let claimName = source["claimName"]?.string ?? ""
        let namespace = pod.metadata.namespace ?? "default"
        let claim: PersistentVolumeClaim
        do { claim = try await client.get(PersistentVolumeClaim.self, name: claimName, namespace: namespace) } catch {
            throw ContainerStartError(reason: "FailedMount", message: "persistentvolumeclaim \"\(claimName)\" not found")
        }
        guard claim.status.phase == "Bound", let pvName = claim.spec.volumeName, !pvName.isEmpty else {
            throw ContainerStartError(reason: "FailedMount", message: "persistentvolumeclaim \"\(claimName)\" is not bound")
        }
        let pv: PersistentVolume
        do { pv = try await client.get(PersistentVolume.self, name: pvName) } catch {
            throw ContainerStartError(reason: "FailedMount", message: "persistentvolume \"\(pvName)\" not found")
        }
        prepared.readOnly[name] = source["readOnly"]?.bool ?? false
        if let path = pv.spec.object["hostPath"]?.object?["path"]?.string ?? pv.spec.object["local"]?.object?["path"]?.string {
            prepared.paths[name] = path
            return
        }
        guard let csi = pv.spec.csi, csi.driver == LocalCSIDriver.driverName, let handle = csi.volumeHandle else {
            throw ContainerStartError(reason: "FailedMount",
                                      message: "persistentvolume \"\(pvName)\" is not a volume of \(LocalCSIDriver.driverName), hostPath or local")
        }
        let mode: VolumeCapability.AccessMode.Mode = switch pv.spec.accessModes.first {
        case "ReadOnlyMany": .multiNodeReaderOnly
        case "ReadWriteMany": .multiNodeMultiWriter
        default: .singleNodeWriter
        }
        let capability = VolumeCapability(accessMode: .init(mode: mode), accessType: .mount(.init(fsType: csi.fsType ?? "")))
        let staging = kubeletDirectory.appendingPathComponent("staging/\(handle)").path
        let target = podDirectory.appendingPathComponent("volumes/kubernetes.io~csi/\(pvName)/mount").path
        let options = CallOptions(timeout: .seconds(10), waitForReady: true)
        do {
            try make(URL(fileURLWithPath: staging))
            _ = try await node.nodeStageVolume(.init(volumeId: handle, stagingTargetPath: staging, volumeCapability: capability,
                                                     volumeContext: csi.volumeAttributes), options: options)
            _ = try await node.nodePublishVolume(.init(volumeId: handle, stagingTargetPath: staging, targetPath: target,
                                                       volumeCapability: capability, readonly: prepared.readOnly[name] ?? false,
                                                       volumeContext: csi.volumeAttributes), options: options)
        } catch let error as ContainerStartError {
            throw error
        } catch {
            throw ContainerStartError(reason: "FailedMount", message: "MountVolume.SetUp failed for volume \"\(pvName)\": \(error)")
        }
        prepared.published.append((handle, target, staging))
        let resolved = (try? FileManager.default.destinationOfSymbolicLink(atPath: target)) ?? target
        prepared.paths[name] = resolved
    }

    /// Unpublishes and unstages CSI volumes (unstage only when `stillUsed` says no other pod of the node uses it)
    /// and removes the pod's directory (emptyDir data, config files, publish links).
    func tearDown(_ prepared: Prepared, stillUsed: @Sendable (String) -> Bool) async {
        let options = CallOptions(timeout: .seconds(10))
        for p in prepared.published {
            _ = try? await node.nodeUnpublishVolume(.init(volumeId: p.volumeID, targetPath: p.target), options: options)
            if !stillUsed(p.volumeID) {
                _ = try? await node.nodeUnstageVolume(.init(volumeId: p.volumeID, stagingTargetPath: p.staging), options: options)
                try? FileManager.default.removeItem(atPath: p.staging)
            }
        }
        try? FileManager.default.removeItem(at: podDirectory.appendingPathComponent("volumes"))
    }

    private func make(_ dir: URL) throws(ContainerStartError) {
        do { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) } catch {
            throw ContainerStartError(reason: "FailedMount", message: "cannot create \(dir.path): \(error.localizedDescription)")
        }
    }

    private func configMapData(_ source: JSONObject) async throws(ContainerStartError) -> [String: Data]? {
        let name = source["name"]?.string ?? ""
        do {
            let cm = try await client.get(ConfigMap.self, name: name, namespace: pod.metadata.namespace)
            var out = cm.data.mapValues { Data($0.utf8) }
            for (k, v) in cm.binaryData { out[k] = Data(base64Encoded: v) }
            return out
        } catch {
            if source["optional"]?.bool == true { return nil }
            throw ContainerStartError(reason: "FailedMount", message: "configmap \"\(name)\" not found")
        }
    }

    private func secretData(_ source: JSONObject) async throws(ContainerStartError) -> [String: Data]? {
        let name = source["secretName"]?.string ?? ""
        do {
            let s = try await client.get(Secret.self, name: name, namespace: pod.metadata.namespace)
            var out = s.decodedData.mapValues { Data($0) }
            for (k, v) in s.stringData { out[k] = Data(v.utf8) }
            return out
        } catch {
            if source["optional"]?.bool == true { return nil }
            throw ContainerStartError(reason: "FailedMount", message: "secret \"\(name)\" not found")
        }
    }

    /// Writes keys as files (all, or the listed `items` at their `path`), never outside `dir`.
    private func write(_ data: [String: Data]?, items: [JSONValue]?, to dir: URL) throws(ContainerStartError) {
        try make(dir)
        guard let data else { return }
        var files: [(String, Data)] = []
        if let items {
            for item in items {
                guard let key = item.object?["key"]?.string, let path = item.object?["path"]?.string else { continue }
                guard let value = data[key] else {
                    throw ContainerStartError(reason: "FailedMount", message: "configuration key \(key) not found")
                }
                files.append((path, value))
            }
        } else {
            files = data.map { ($0.key, $0.value) }
        }
        for (path, value) in files {
            guard !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
                throw ContainerStartError(reason: "FailedMount", message: "invalid item path \(path)")
            }
            let url = dir.appendingPathComponent(path)
            do {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try value.write(to: url)
            } catch {
                throw ContainerStartError(reason: "FailedMount", message: "cannot write \(url.path): \(error.localizedDescription)")
            }
        }
    }
}
