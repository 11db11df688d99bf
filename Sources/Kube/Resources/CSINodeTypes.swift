/// A `storage.k8s.io/v1` CSINode (cluster-scoped, named after its Node): the CSI drivers the kubelet registered on
/// that node, each with its node ID and the topology keys it reported (NodeGetInfo).
public struct CSINode: KubeResource {
    public static let resourceType = ResourceType(group: "storage.k8s.io", version: "v1", kind: "CSINode", plural: "csinodes",
                                                  namespaced: false, hasStatusSubresource: false)
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }

    /// `spec.drivers`: `{name, nodeID, topologyKeys, allocatable}` entries.
    public var drivers: [JSONMap] {
        get { spec["drivers"] ?? [] }
        set { spec["drivers"] = newValue }
    }
    public var spec: JSONMap { get { self[view: "spec"] } set { self[view: "spec"] = newValue } }

    /// The topology keys `driver` registered on this node; nil when the driver is not registered here.
    public func topologyKeys(driver: String) -> [String]? {
        guard let entry = drivers.first(where: { ($0["name"] as String?) == driver }) else { return nil }
        return entry["topologyKeys"] ?? []
    }
}
