import CSI
import Foundation
import GRPCTransport
import Kube
import Logging

/// external-provisioner (csi-provisioner v6.3 with sig-storage-lib-external-provisioner v13, kubernetes.md §1 and
/// §9.5) for the local CSI driver, talking to it over the real gRPC socket `DIR/csi.sock`.
///
/// Reproduces: which claims it takes (`volumeName` empty, `volume.kubernetes.io/storage-provisioner` — else the
/// beta key — naming the driver, and under WaitForFirstConsumer a non-empty `selected-node`); the data source
/// normalisation, the `CrossNamespaceVolumeDataSource` gate (its own flag, `options.crossNamespaceVolumeDataSource`)
/// and the ReferenceGrant rule, checked before the kind switch; VolumeSnapshot and PVC sources with upstream's
/// checks and texts; unknown kinds left to a populator with "Assuming an external populator will provision the
/// volume"; CreateVolume named `pvc-<uid>` with the storage request, one capability per access mode (fsType from
/// `csi.storage.k8s.io/fstype`, StorageClass mountOptions), the parameters minus the reserved
/// `csi.storage.k8s.io/` keys, topology requirements (delayed binding: built around the selected node; immediate:
/// every node, preferred rotated by the claim name); `checkError` (RESOURCE_EXHAUSTED with a selected node
/// reschedules by removing `selected-node`; INVALID_ARGUMENT is infeasible and waits the maximum backoff); the
/// content-source echo and capacity checks (the new volume is deleted and the claim retried); the PV
/// (`pvc-<uid>`, `provisioned-by`, the empty deletion-secret annotations, the provisioner finalizer unless the
/// policy is Retain, claimRef, class, reclaim policy, mount options, node affinity from `accessible_topology`,
/// volumeMode, `csiProvisionerIdentity`); the events `Provisioning`, `ProvisioningSucceeded`,
/// `ProvisioningFailed`; the snapshot source-protection finalizer (added before CreateVolume, removed after it when
/// the claim's `spec.dataSource` is the snapshot) and the cloning-protection finalizer on a source PVC; deletion
/// of Released PVs it provisioned with policy Delete (DeleteVolume, then DELETE of the PV and removal of its
/// finalizer; `VolumeFailedDelete` on error), and the protection-finalizer bookkeeping on Bound PVs.
///
/// Knowingly differs: no provisioner/deletion secrets (no template resolution; parameters only); no
/// VolumeAttributesClass; no `--extra-create-metadata`; ReferenceGrants are listed live instead of from an
/// informer (so a new grant counts at the next retry, which upstream also waits for); the snapshot-finalizer sweep
/// and the cloning-protection controller are folded into the success path (a finalizer left by a failed clone
/// stays until the clone succeeds); topology comes from Node labels (`topology.local.csi.ferry.io/node`), not
/// CSINode objects; retries back off from 50 ms (not 1 s) up to 30 s (not 5 min), to keep tests fast.
public struct ExternalProvisioner: ClusterComponent {
    public var name: String { "external-provisioner" }
    public var driverName: String
    /// Per-call timeout (`--timeout`, 10 s in the code).
    public var timeout: Duration

    public init(driverName: String = LocalCSIDriver.driverName, timeout: Duration = .seconds(10)) {
        self.driverName = driverName
        self.timeout = timeout
    }

    enum Key: Hashable, Sendable { case claim(ObjectKey), volume(String) }

    public func run(context: ComponentContext) async throws {
        let logger = context.logger
        let socket = ClusterLayout(directory: context.options.directory).csiSocket
        while !FileManager.default.fileExists(atPath: socket) {
            try await Task.sleep(for: .milliseconds(50))
        }
        let channel = try GRPCChannel(target: socket, logger: logger)
        defer { channel.close() }
        let controller = ControllerClient(channel: channel)
        let capabilities = try await Self.capabilities(controller, timeout: timeout)
        let client = context.client
        let claims = Informer<PersistentVolumeClaim>(client: client, namespace: nil, logger: logger)
        let volumes = Informer<PersistentVolume>(client: client, namespace: nil, logger: logger)
        let classes = Informer<StorageClass>(client: client, namespace: nil, logger: logger)
        let nodes = Informer<Node>(client: client, namespace: nil, logger: logger)
        let loop = ControllerLoop<Key>(name: name, logger: logger)
        claims.addHandler { event in
            switch event {
            case .added(let c), .updated(_, let c): loop.enqueue(.claim(c.key))
            case .deleted: break
            }
        }
        volumes.addHandler { event in
            switch event {
            case .added(let v), .updated(_, let v): loop.enqueue(.volume(v.name))
            case .deleted: break
            }
        }
        let provisioner = Provisioner(
            client: client, controller: controller, driverName: driverName, timeout: timeout,
            sources: ProvisioningSources(client: client, driverName: driverName,
                                         crossNamespaceVolumeDataSource: context.options.crossNamespaceVolumeDataSource,
                                         capabilities: capabilities),
            claims: claims, volumes: volumes, classes: classes, nodes: nodes,
            events: EventRecorder(client: client, component: "\(driverName)_local-cluster", logger: logger),
            identity: "\(Int64(Date().timeIntervalSince1970 * 1000))-\(Int.random(in: 1000...9999))-\(driverName)")
        await loop.run(informers: [claims.loopEntry, volumes.loopEntry, classes.loopEntry, nodes.loopEntry],
                       resync: .seconds(15), workers: 4,
                       allKeys: { claims.list().map { .claim($0.key) } + volumes.list().map { .volume($0.name) } },
                       sync: { key in
                           switch key {
                           case .claim(let k): await provisioner.syncClaim(k)
                           case .volume(let n): await provisioner.syncVolume(n)
                           }
                       })
    }

    /// The driver's controller capabilities; retried until the driver answers (it may still be starting).
    static func capabilities(_ controller: ControllerClient,
                             timeout: Duration) async throws -> Set<ControllerServiceCapability.RPC.TypeEnum> {
        while true {
            do {
                let response = try await controller.controllerGetCapabilities(
                    options: CallOptions(timeout: timeout, waitForReady: true))
                return Set(response.capabilities.compactMap {
                    if case .rpc(let rpc)? = $0.type { rpc.type } else { nil }
                })
            } catch {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }
}
