// Typed views of the resources Ferry reads and writes (kubernetes.md, ARCHITECTURE.md §1).

/// A `gateway.networking.k8s.io/v1beta1` ReferenceGrant (the storage version).
public struct ReferenceGrant: KubeResource {
    public static let resourceType = ResourceType(group: "gateway.networking.k8s.io", version: "v1beta1", kind: "ReferenceGrant", plural: "referencegrants",
                                                  namespaced: true, hasStatusSubresource: false)
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var spec: ReferenceGrantSpec { get { self[view: "spec"] } set { self[view: "spec"] = newValue } }
}

/// A `gateway.networking.k8s.io/v1` ReferenceGrant (same schema as v1beta1).
public struct ReferenceGrantV1: KubeResource {
    public static let resourceType = ResourceType(group: "gateway.networking.k8s.io", version: "v1", kind: "ReferenceGrant", plural: "referencegrants",
                                                  namespaced: true, hasStatusSubresource: false)
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var spec: ReferenceGrantSpec { get { self[view: "spec"] } set { self[view: "spec"] = newValue } }
}

/// `spec` of a ReferenceGrant.
public struct ReferenceGrantSpec: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var from: [ReferenceGrantFrom] { get { self["from"] ?? [] } set { self["from"] = newValue.isEmpty ? nil : newValue } }
    public var to: [ReferenceGrantTo] { get { self["to"] ?? [] } set { self["to"] = newValue.isEmpty ? nil : newValue } }
}

/// One `from` entry of a ReferenceGrant.
public struct ReferenceGrantFrom: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var group: String? { get { self["group"] } set { self["group"] = newValue } }
    public var kind: String? { get { self["kind"] } set { self["kind"] = newValue } }
    public var namespace: String? { get { self["namespace"] } set { self["namespace"] = newValue } }
}

/// One `to` entry of a ReferenceGrant (`name` absent = all).
public struct ReferenceGrantTo: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var group: String? { get { self["group"] } set { self["group"] = newValue } }
    public var kind: String? { get { self["kind"] } set { self["kind"] = newValue } }
    public var name: String? { get { self["name"] } set { self["name"] = newValue } }
}

/// `status` of Ferry's kinds (conditions; other fields kept as JSON).
public struct FerryStatus: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var conditions: [Condition] { get { self["conditions"] ?? [] } set { self["conditions"] = newValue.isEmpty ? nil : newValue } }
    public var observedGeneration: Int64? { get { self["observedGeneration"] } set { self["observedGeneration"] = newValue } }
    public var message: String? { get { self["message"] } set { self["message"] = newValue } }
}

/// Ferry's `ferry.io/v1alpha1` DataSourceLink: a same-namespace stand-in for a cross-namespace source.
public struct DataSourceLink: KubeResource {
    public static let resourceType = ResourceType(group: "ferry.io", version: "v1alpha1", kind: "DataSourceLink", plural: "datasourcelinks",
                                                  namespaced: true, hasStatusSubresource: true)
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var spec: DataSourceLinkSpec { get { self[view: "spec"] } set { self[view: "spec"] = newValue } }
    public var status: FerryStatus { get { self[view: "status"] } set { self[view: "status"] = newValue } }
}

/// `spec` of a DataSourceLink.
public struct DataSourceLinkSpec: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var sourceRef: TypedObjectReference { get { self[view: "sourceRef"] } set { self[view: "sourceRef"] = newValue } }
}
