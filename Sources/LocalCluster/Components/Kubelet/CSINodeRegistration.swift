import CSI
import Foundation
import Kube

/// What the kubelet's CSI plugin registration writes for a node plugin (kubernetes/kubernetes
/// `pkg/volume/csi/nodeinfomanager/nodeinfomanager.go`: `CreateCSINode`, `InstallCSIDriver`): the CSINode named
/// after the Node, owned by it (so the garbage collector removes it with the Node), created with no drivers, then
/// one `spec.drivers` entry per driver — `name`, `nodeID` (NodeGetInfo's `node_id`), `topologyKeys` (the sorted keys
/// of NodeGetInfo's `accessible_topology`) and `allocatable.count` when `max_volumes_per_node` > 0 (capped at
/// 2^31−1). An entry that already matches (same node ID and key set) is left alone; another driver's entry is kept.
///
/// Knowingly differs: the kubelet's `storage.alpha.kubernetes.io/migrated-plugins` annotation (in-tree volume
/// plugins migrated to CSI) is not written — the simulated nodes have no in-tree plugins; there is no
/// node-driver-registrar (the kubelet registers the driver it finds on the node plugin's socket at start) and no
/// unregistration (a driver that goes away keeps its entry until the node's CSINode is deleted).
enum CSINodeRegistration {
    static let nodeIDAnnotation = "csi.volume.kubernetes.io/nodeid"

    /// The Node annotation's JSON map with `nodeIDs` merged in (`updateNodeIDInNode`); an unreadable old value is
    /// replaced.
    static func nodeIDs(merging nodeIDs: [String: String], into old: String?) -> String {
        var map: [String: String] = [:]
        if let old, let data = old.data(using: .utf8),
           let decoded = try? JSONSerialization.jsonObject(with: data) as? [String: String] {
            map = decoded
        }
        map.merge(nodeIDs) { _, new in new }
        let encoded = (try? JSONSerialization.data(withJSONObject: map, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: encoded, as: UTF8.self)
    }

    /// The CSINode with `driver`'s entry installed (pure; nil when nothing changes).
    static func installing(driver: String, info: NodeGetInfoResponse, into csiNode: CSINode) -> CSINode? {
        let keys = (info.accessibleTopology?.segments.keys.map { $0 } ?? []).sorted()
        var others: [JSONMap] = []
        var unchanged = false
        for entry in csiNode.drivers {
            if (entry["name"] as String?) == driver {
                let oldKeys: [String] = entry["topologyKeys"] ?? []
                unchanged = (entry["nodeID"] as String?) == info.nodeId && Set(oldKeys) == Set(keys)
            } else {
                others.append(entry)
            }
        }
        if unchanged { return nil }
        var entry = JSONMap(object: ["name": .string(driver), "nodeID": .string(info.nodeId)])
        if !keys.isEmpty { entry["topologyKeys"] = keys }
        if info.maxVolumesPerNode > 0 {
            entry["allocatable"] = JSONMap(object: ["count": .int(min(info.maxVolumesPerNode, Int64(Int32.max)))])
        }
        var updated = csiNode
        updated.drivers = others + [entry]
        return updated
    }

    /// Creates the node's CSINode if missing, then installs the driver's entry.
    static func register(_ client: KubeClient, node: Node, driver: String, info: NodeGetInfoResponse) async throws {
        let existing: CSINode?
        do {
            existing = try await client.get(CSINode.self, name: node.name)
        } catch {
            guard error.code == .notFound else { throw error }
            existing = nil
        }
        var csiNode: CSINode
        if let existing {
            csiNode = existing
        } else {
            var fresh = CSINode(name: node.name)
            fresh.metadata.ownerReferences = [OwnerReference(apiVersion: "v1", kind: "Node", name: node.name,
                                                             uid: node.metadata.uid ?? "")]
            fresh.drivers = []
            csiNode = try await client.create(fresh)
        }
        if let updated = installing(driver: driver, info: info, into: csiNode) {
            _ = try await client.update(updated)
        }
    }
}
