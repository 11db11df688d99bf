import CSI
import Foundation
import GRPCTransport
import Kube
import Logging
import Synchronization

/// The kubelet of one simulated node: registers the Node and runs the pods bound to it as local processes
/// (kubernetes.md §9; issue 11 item 5).
///
/// Reproduces: Node registration with `kubernetes.io/hostname`, `kubernetes.io/os`, `kubernetes.io/arch` and the CSI
/// topology label the node plugin reports (NodeGetInfo, as node-driver-registrar adds it) and the
/// `csi.volume.kubernetes.io/nodeid` annotation, the node's CSINode with the driver's entry (``CSINodeRegistration``),
/// a Ready condition,
/// capacity and addresses; pods with `spec.nodeName` of this node run through ``PodWorker`` — CSI
/// NodeStage/NodePublish over the node plugin's socket, each container's `command`/`args` (the image's entrypoint
/// from the image table when `command` is empty) as a process in a private mount namespace (`unshare --mount`)
/// with every volume bind-mounted at its `mountPath` (read-only where asked; mount points the kubelet had to create
/// on the host are removed afterwards), env/envFrom/valueFrom, `workingDir`, restartPolicy, exit codes,
/// termination messages (`terminationMessagePath`, `FallbackToLogsOnError`), logs in
/// `DIR/logs/<namespace>/<pod>/<container>.log`; graceful deletion (SIGTERM, SIGKILL after the grace period, then
/// DELETE with grace 0).
///
/// Knowingly differs: no container isolation besides the mount namespace (same PID/network/user namespaces and root
/// filesystem as the host: the image is not a filesystem, it only names the executable); no probes (a started
/// container is ready); no resource limits; a service-account token only for a ServiceAccount that exists
/// (``ServiceAccountToken``), no other projected volumes; no node heartbeats or
/// leases (the Node is Ready for the kubelet's lifetime); pod IP is 127.0.0.1; `kubectl logs`/`exec` are not
/// served; restarts back off 1 s to 30 s.
public struct Kubelet: ClusterComponent {
    public let nodeName: String
    public var name: String { "kubelet-\(nodeName)" }

    public init(nodeName: String) { self.nodeName = nodeName }

    public func run(context: ComponentContext) async throws {
        let layout = ClusterLayout(directory: context.options.directory)
        let logger = context.logger
        let socket = layout.nodePluginSocket(nodeName)
        while !FileManager.default.fileExists(atPath: socket) { try await Task.sleep(for: .milliseconds(50)) }
        let channel = try GRPCChannel(target: socket, logger: logger)
        defer { channel.close() }
        let nodeClient = NodeClient(channel: channel)
        let info = try await Self.nodeInfo(nodeClient)
        let driverName = try await Self.pluginName(IdentityClient(channel: channel))
        let node = try await register(context.client, topology: info.accessibleTopology?.segments ?? [:],
                                      nodeIDs: [driverName: info.nodeId])
        try await CSINodeRegistration.register(context.client, node: node, driver: driverName, info: info)
        try FileManager.default.createDirectory(at: layout.kubeletDirectory(nodeName), withIntermediateDirectories: true)
        let kubelet = KubeletContext(
            client: context.client, nodeName: nodeName, layout: layout, images: ImageTable(context.options.images),
            processes: PodProcesses.forCluster(directory: context.options.directory), node: nodeClient,
            events: EventRecorder(client: context.client, component: "kubelet", host: nodeName, logger: logger),
            logger: logger, volumeUsers: VolumeUsers())
        let pods = Informer<Pod>(client: context.client, namespace: nil, fieldSelector: "spec.nodeName=\(nodeName)",
                                 logger: logger)
        let workers = PodWorkers(context: kubelet)
        pods.addHandler { event in
            switch event {
            case .added(let p), .updated(_, let p): await workers.sync(p)
            case .deleted(let p): await workers.remove(p)
            }
        }
        await withTaskCancellationHandler {
            await pods.run()
        } onCancel: {}
        await workers.stopAll()
    }

    static func nodeInfo(_ node: NodeClient) async throws -> NodeGetInfoResponse {
        while true {
            do { return try await node.nodeGetInfo(.init(), options: CallOptions(timeout: .seconds(5), waitForReady: true)) } catch {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    static func pluginName(_ identity: IdentityClient) async throws -> String {
        while true {
            do { return try await identity.getPluginInfo(options: CallOptions(timeout: .seconds(5), waitForReady: true)).name } catch {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Creates (or refreshes) this node's Node object: labels, the driver's topology labels, and the
    /// `csi.volume.kubernetes.io/nodeid` annotation (a JSON map driver → node ID) the kubelet's CSI plugin
    /// registration writes.
    @discardableResult
    private func register(_ client: KubeClient, topology: [String: String], nodeIDs: [String: String]) async throws -> Node {
        var arch = utsname()
        uname(&arch)
        let machine = withUnsafeBytes(of: &arch.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let goArch = machine == "x86_64" ? "amd64" : machine == "aarch64" ? "arm64" : machine
        var labels = ["kubernetes.io/hostname": nodeName, "kubernetes.io/os": "linux", "kubernetes.io/arch": goArch,
                      "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": goArch]
        labels.merge(topology) { _, t in t }
        let now = KubeletContext.timestamp()
        let status: JSONObject = [
            "conditions": [["type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "kubelet is posting ready status", "lastHeartbeatTime": .string(now),
                            "lastTransitionTime": .string(now)]],
            "addresses": [["type": "InternalIP", "address": "127.0.0.1"], ["type": "Hostname", "address": .string(nodeName)]],
            "capacity": ["cpu": "2", "memory": "4Gi", "pods": "110", "ephemeral-storage": "100Gi"],
            "allocatable": ["cpu": "2", "memory": "4Gi", "pods": "110", "ephemeral-storage": "100Gi"],
            "nodeInfo": ["kubeletVersion": "v1.35.0-ferry-local", "operatingSystem": "linux", "architecture": .string(goArch),
                         "containerRuntimeVersion": "local://process", "kernelVersion": "", "osImage": "local",
                         "kubeProxyVersion": "", "machineID": "", "systemUUID": "", "bootID": ""],
        ]
        var node: Node
        if var existing = try? await client.get(Node.self, name: nodeName) {
            existing.metadata.labels.merge(labels) { _, l in l }
            existing.metadata.annotations[CSINodeRegistration.nodeIDAnnotation] = CSINodeRegistration.nodeIDs(
                merging: nodeIDs, into: existing.metadata.annotations[CSINodeRegistration.nodeIDAnnotation])
            node = try await client.update(existing)
        } else {
            node = Node(name: nodeName)
            node.metadata.labels = labels
            node.metadata.annotations[CSINodeRegistration.nodeIDAnnotation] = CSINodeRegistration.nodeIDs(merging: nodeIDs, into: nil)
            node = try await client.create(node)
        }
        node.object["status"] = .object(status)
        return try await client.updateStatus(node)
    }
}

/// The pod workers of one kubelet, by pod UID.
actor PodWorkers {
    let context: KubeletContext
    private var workers: [String: PodWorker] = [:]

    init(context: KubeletContext) { self.context = context }

    func sync(_ pod: Pod) async {
        let uid = pod.metadata.uid ?? pod.name
        if let worker = workers[uid] {
            await worker.update(pod)
            return
        }
        let phase = pod.status.phase
        if phase == "Succeeded" || phase == "Failed" {
            // Finished before this kubelet started: nothing to run; finish a pending graceful deletion.
            if pod.metadata.deletionTimestamp != nil {
                _ = try? await context.client.delete(Pod.self, name: pod.name, namespace: pod.metadata.namespace,
                                                 options: DeleteOptions(preconditionUID: pod.metadata.uid, gracePeriodSeconds: 0))
            }
            return
        }
        let worker = PodWorker(pod: pod, context: context)
        workers[uid] = worker
        await worker.start()
        if pod.metadata.deletionTimestamp != nil { await worker.update(pod) }
    }

    func remove(_ pod: Pod) async {
        guard let worker = workers.removeValue(forKey: pod.metadata.uid ?? pod.name) else { return }
        await worker.vanished()
    }

    func stopAll() async {
        let all = workers.values
        workers = [:]
        for w in all { await w.vanished() }
    }
}
