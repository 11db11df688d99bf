// Typed views of the core kinds the local cluster's scheduler and kubelet use (kubernetes.md §9.3).

/// A `v1` Node (cluster-scoped). Labels carry the topology (`kubernetes.io/hostname`, CSI topology keys).
public struct Node: KubeResource {
    public static let resourceType = ResourceType(group: "", version: "v1", kind: "Node", plural: "nodes",
                                                  namespaced: false, hasStatusSubresource: true)
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var spec: JSONMap { get { self[view: "spec"] } set { self[view: "spec"] = newValue } }
    public var status: JSONMap { get { self[view: "status"] } set { self[view: "status"] = newValue } }
}

/// A `v1` ConfigMap.
public struct ConfigMap: KubeResource {
    public static let resourceType = ResourceType(group: "", version: "v1", kind: "ConfigMap", plural: "configmaps",
                                                  namespaced: true, hasStatusSubresource: false)
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var data: [String: String] { get { self["data"] ?? [:] } set { self["data"] = newValue.isEmpty ? nil : newValue } }
    /// `binaryData` values are base64.
    public var binaryData: [String: String] {
        get { self["binaryData"] ?? [:] }
        set { self["binaryData"] = newValue.isEmpty ? nil : newValue }
    }
}
