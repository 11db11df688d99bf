public import CSI
public import Foundation
public import GRPCTransport

/// The local cluster's CSI driver, `local.csi.ferry.io`: Identity, Controller and Node services whose volumes are
/// directories on this machine, holding real data.
///
/// Upstream behaviour it reproduces (CSI spec v1.12 and kubernetes-csi/csi-driver-host-path, kubernetes.md §6):
/// - **CreateVolume** is idempotent by name: the same name with a compatible capacity and the same content source
///   returns the existing volume; otherwise ALREADY_EXISTS. A second create of a name still in progress answers
///   ABORTED. A snapshot source copies that snapshot's directory into the new volume (restore), a volume source
///   copies the source volume's directory (clone); a missing source is NOT_FOUND, a capacity below the source's
///   is OUT_OF_RANGE. The response echoes `content_source`, as external-provisioner requires.
/// - **Topology**: like hostpath, every volume lives on one node, `topology.local.csi.ferry.io/node=<node>`. The
///   node is the first preferred (else requisite) segment that names a node of this driver; requirements naming no
///   such node are RESOURCE_EXHAUSTED; no requirements picks the first node.
/// - **CreateSnapshot** copies the volume's directory to `DIR/snapshots/<snapshotID>/` and is ready at once;
///   `size_bytes` is the source volume's capacity (its restore size). Deletes are idempotent.
/// - **Node**: NodeStageVolume records the volume as staged on the node; NodePublishVolume makes `target_path` a
///   symbolic link to the volume directory (FAILED_PRECONDITION if not staged first); the kubelet bind-mounts the
///   link's target into the container's private mount namespace, honouring `readonly` there.
///
/// Where it knowingly differs: no block volumes (INVALID_ARGUMENT); capacity is bookkeeping — GetCapacity reports
/// the configured total minus the capacities handed out, CreateVolume beyond it is RESOURCE_EXHAUSTED, but writes
/// into a volume are not limited (the demo's volumes are small; NodeGetVolumeStats reports the real usage); no
/// ControllerPublish/attach step (the driver does not report PUBLISH_UNPUBLISH_VOLUME, so no VolumeAttachment is
/// needed); NodePublish makes a link instead of a mount (no mount outlives the cluster).
public final class LocalCSIDriver: IdentityService, ControllerService, NodeService, Sendable {
    public static let driverName = "local.csi.ferry.io"
    /// The topology key of every volume and node (like hostpath's `topology.hostpath.csi/node`).
    public static let topologyKey = "topology.local.csi.ferry.io/node"

    public struct Configuration: Sendable {
        /// DIR: `volumes/`, `snapshots/` and `csi/` (metadata) live here.
        public var directory: URL
        /// The names of every node a volume may live on; the first is the default.
        public var nodes: [String]
        /// The node this instance's Node service runs on (NodeGetInfo's `node_id`).
        public var nodeID: String
        /// Total capacity handed out to volumes (bookkeeping only, see the type's documentation).
        public var totalCapacityBytes: Int64
        /// Capacity of a volume created without `required_bytes`.
        public var defaultCapacityBytes: Int64
        /// Test fault hooks consulted by CreateVolume, DeleteVolume and CreateSnapshot; nil = none.
        public var faults: CSIFaults?

        public init(directory: URL, nodes: [String] = ["node-1"], nodeID: String? = nil,
                    totalCapacityBytes: Int64 = 1 << 40, defaultCapacityBytes: Int64 = 1 << 30,
                    faults: CSIFaults? = nil) {
            self.faults = faults
            self.directory = directory
            self.nodes = nodes
            self.nodeID = nodeID ?? nodes.first ?? "node-1"
            self.totalCapacityBytes = totalCapacityBytes
            self.defaultCapacityBytes = defaultCapacityBytes
        }
    }

    public let configuration: Configuration
    let store: VolumeStore

    /// Opens (or creates) the driver's state under `configuration.directory`.
    /// - Throws: when the directories cannot be created.
    public init(configuration: Configuration) throws {
        self.configuration = configuration
        self.store = try VolumeStore(root: configuration.directory, totalCapacityBytes: configuration.totalCapacityBytes)
    }

    /// Another Node-service instance for `node`, sharing this driver's volumes (one per simulated node).
    public func forNode(_ node: String) -> LocalCSIDriver {
        var c = configuration
        c.nodeID = node
        return LocalCSIDriver(configuration: c, store: store)
    }

    init(configuration: Configuration, store: VolumeStore) {
        self.configuration = configuration
        self.store = store
    }

    /// The directory holding a volume's data (`DIR/volumes/<volumeID>`).
    public func volumeDirectory(_ volumeID: String) -> URL {
        configuration.directory.appendingPathComponent("volumes/\(volumeID)")
    }

    /// The directory holding a snapshot's data (`DIR/snapshots/<snapshotID>`).
    public func snapshotDirectory(_ snapshotID: String) -> URL {
        configuration.directory.appendingPathComponent("snapshots/\(snapshotID)")
    }

    // MARK: Identity

    public func getPluginInfo(_ request: GetPluginInfoRequest, context: ServerContext) async throws -> GetPluginInfoResponse {
        .init(name: Self.driverName, vendorVersion: "1.0.0", manifest: ["simulated": "true"])
    }

    public func getPluginCapabilities(
        _ request: GetPluginCapabilitiesRequest, context: ServerContext
    ) async throws -> GetPluginCapabilitiesResponse {
        .init(capabilities: [PluginCapability.Service.TypeEnum.controllerService, .volumeAccessibilityConstraints]
            .map { .init(type: .service(.init(type: $0))) })
    }

    public func probe(_ request: ProbeRequest, context: ServerContext) async throws -> ProbeResponse {
        .init(ready: true)
    }

    static func topology(_ node: String) -> Topology { Topology(segments: [topologyKey: node]) }
}
