import CSI
import Foundation
import GRPCTransport
import Kube
import Logging

/// The external-snapshotter's two controllers in one component (kubernetes.md §9.4): the common
/// `snapshot-controller` (VolumeSnapshot → VolumeSnapshotContent, status, finalizers, deletion) and the
/// `csi-snapshotter` sidecar of the local driver (CreateSnapshot/DeleteSnapshot over `DIR/csi.sock`).
///
/// Reproduces: the as-source and bound protection finalizers on snapshots, the `pvc-as-source-protection`
/// finalizer on the source claim (removed once no unready snapshot of the namespace uses it); the default class
/// (the single `is-default-class` class of the PV's driver, with `SetDefaultSnapshotClassFailed` otherwise); the
/// source checks (the claim must be bound, its PV CSI); the content `snapcontent-<snapshot UID>` with
/// `volumeSnapshotRef`, `source.volumeHandle`, class, `deletionPolicy`, driver and `sourceVolumeMode`; the
/// `CreatingSnapshot`, `SnapshotCreated`, `SnapshotReady` events; CreateSnapshot named `snapshot-<snapshot UID>` with
/// the class parameters minus `csi.storage.k8s.io/*`, the being-created annotation while the call runs, the
/// content status (`snapshotHandle`, `readyToUse`, `creationTime` in Unix ns, `restoreSize` in bytes when > 0) and
/// its copy to the snapshot (`restoreSize` as a BinarySI quantity); `SnapshotCreationFailed` on CSI errors;
/// deletion: `SnapshotDeletePending` while a same-namespace Pending claim restores from it via `spec.dataSource`,
/// else Delete policy deletes the content (the sidecar calls DeleteSnapshot and drops the content finalizer) and
/// Retain keeps content and backend snapshot; a content whose snapshot vanished without a delete is never deleted.
///
/// Knowingly differs: one process instead of two; writes are PUT/merge patches rather than JSON patches; no
/// snapshot secrets; pre-provisioned snapshots bind by name without the ListSnapshots readiness check; no
/// VolumeGroupSnapshots; retries back off from 50 ms to 30 s (upstream 1 s to 5 min); no 15-minute resync.
public struct SnapshotController: ClusterComponent {
    public var name: String { "snapshot-controller" }
    public var driverName: String
    public var timeout: Duration

    public init(driverName: String = LocalCSIDriver.driverName, timeout: Duration = .seconds(10)) {
        self.driverName = driverName
        self.timeout = timeout
    }

    enum Key: Hashable, Sendable { case snapshot(ObjectKey), content(String) }

    public func run(context: ComponentContext) async throws {
        let logger = context.logger
        let socket = ClusterLayout(directory: context.options.directory).csiSocket
        while !FileManager.default.fileExists(atPath: socket) { try await Task.sleep(for: .milliseconds(50)) }
        let channel = try GRPCChannel(target: socket, logger: logger)
        defer { channel.close() }
        let client = context.client
        let snapshots = Informer<VolumeSnapshot>(client: client, namespace: nil, logger: logger)
        let contents = Informer<VolumeSnapshotContent>(client: client, namespace: nil, logger: logger)
        let classes = Informer<VolumeSnapshotClass>(client: client, namespace: nil, logger: logger)
        let claims = Informer<PersistentVolumeClaim>(client: client, namespace: nil, logger: logger)
        let volumes = Informer<PersistentVolume>(client: client, namespace: nil, logger: logger)
        let loop = ControllerLoop<Key>(name: name, logger: logger)
        snapshots.addHandler { event in
            switch event {
            case .added(let s), .updated(_, let s): loop.enqueue(.snapshot(s.key))
            case .deleted(let s):
                if let c = s.status.boundVolumeSnapshotContentName { loop.enqueue(.content(c)) }
            }
        }
        contents.addHandler { event in
            switch event {
            case .added(let c), .updated(_, let c), .deleted(let c):
                if case .deleted = event {} else { loop.enqueue(.content(c.name)) }
                let ref = c.spec.volumeSnapshotRef
                if let n = ref.name { loop.enqueue(.snapshot(ObjectKey(namespace: ref.namespace, name: n))) }
            }
        }
        claims.addHandler { event in
            // A restore finishing may unblock a snapshot deletion; a claim binding may unblock a snapshot.
            guard case .updated(_, let c) = event else { return }
            for s in snapshots.list() where s.metadata.namespace == c.metadata.namespace { loop.enqueue(.snapshot(s.key)) }
        }
        let sync = SnapshotSync(client: client, controller: ControllerClient(channel: channel), driverName: driverName,
                                timeout: timeout, snapshots: snapshots, contents: contents, classes: classes,
                                claims: claims, volumes: volumes,
                                events: EventRecorder(client: client, component: "snapshot-controller", logger: logger))
        await loop.run(informers: [snapshots.loopEntry, contents.loopEntry, classes.loopEntry, claims.loopEntry,
                                   volumes.loopEntry],
                       resync: .seconds(15), workers: 2,
                       allKeys: { snapshots.list().map { .snapshot($0.key) } + contents.list().map { .content($0.name) } },
                       sync: { key in
                           switch key {
                           case .snapshot(let k): await sync.syncSnapshot(k)
                           case .content(let n): await sync.syncContent(n)
                           }
                       })
    }
}
