// Typed views of the resources Ferry reads and writes (kubernetes.md, ARCHITECTURE.md §1).

/// A `storage.k8s.io/v1` StorageClass.
public struct StorageClass: KubeResource {
    public static let resourceType = ResourceType(group: "storage.k8s.io", version: "v1", kind: "StorageClass", plural: "storageclasses",
                                                  namespaced: false, hasStatusSubresource: false)
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var provisioner: String? { get { self["provisioner"] } set { self["provisioner"] = newValue } }
    public var parameters: [String: String] { get { self["parameters"] ?? [:] } set { self["parameters"] = newValue.isEmpty ? nil : newValue } }
    public var reclaimPolicy: String? { get { self["reclaimPolicy"] } set { self["reclaimPolicy"] = newValue } }
    public var volumeBindingMode: String? { get { self["volumeBindingMode"] } set { self["volumeBindingMode"] = newValue } }
    public var allowVolumeExpansion: Bool? { get { self["allowVolumeExpansion"] } set { self["allowVolumeExpansion"] = newValue } }
    public var mountOptions: [String] { get { self["mountOptions"] ?? [] } set { self["mountOptions"] = newValue.isEmpty ? nil : newValue } }
}

/// An `events.k8s.io/v1` Event.
public struct Event: KubeResource {
    public static let resourceType = ResourceType(group: "events.k8s.io", version: "v1", kind: "Event", plural: "events",
                                                  namespaced: true, hasStatusSubresource: false)
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var regarding: ObjectReference { get { self[view: "regarding"] } set { self[view: "regarding"] = newValue } }
    public var related: ObjectReference? { get { self["related"] } set { self["related"] = newValue } }
    public var reason: String? { get { self["reason"] } set { self["reason"] = newValue } }
    public var note: String? { get { self["note"] } set { self["note"] = newValue } }
    public var type: String? { get { self["type"] } set { self["type"] = newValue } }
    public var action: String? { get { self["action"] } set { self["action"] = newValue } }
    public var reportingController: String? { get { self["reportingController"] } set { self["reportingController"] = newValue } }
    public var reportingInstance: String? { get { self["reportingInstance"] } set { self["reportingInstance"] = newValue } }
    public var eventTime: String? { get { self["eventTime"] } set { self["eventTime"] = newValue } }
    public var series: JSONMap? { get { self["series"] } set { self["series"] = newValue } }
    public var deprecatedCount: Int? { get { self["deprecatedCount"] } set { self["deprecatedCount"] = newValue } }
}

/// A `coordination.k8s.io/v1` Lease (leader election).
public struct Lease: KubeResource {
    public static let resourceType = ResourceType(group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases",
                                                  namespaced: true, hasStatusSubresource: false)
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var spec: LeaseSpec { get { self[view: "spec"] } set { self[view: "spec"] = newValue } }
}

/// `spec` of a Lease; times are RFC 3339 with microseconds.
public struct LeaseSpec: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var holderIdentity: String? { get { self["holderIdentity"] } set { self["holderIdentity"] = newValue } }
    public var leaseDurationSeconds: Int? { get { self["leaseDurationSeconds"] } set { self["leaseDurationSeconds"] = newValue } }
    public var acquireTime: String? { get { self["acquireTime"] } set { self["acquireTime"] = newValue } }
    public var renewTime: String? { get { self["renewTime"] } set { self["renewTime"] = newValue } }
    public var leaseTransitions: Int? { get { self["leaseTransitions"] } set { self["leaseTransitions"] = newValue } }
}

/// An `apiextensions.k8s.io/v1` CustomResourceDefinition.
public struct CustomResourceDefinition: KubeResource {
    public static let resourceType = ResourceType(group: "apiextensions.k8s.io", version: "v1", kind: "CustomResourceDefinition", plural: "customresourcedefinitions",
                                                  namespaced: false, hasStatusSubresource: true)
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var spec: CRDSpec { get { self[view: "spec"] } set { self[view: "spec"] = newValue } }
    public var status: JSONMap { get { self[view: "status"] } set { self[view: "status"] = newValue } }
}

/// `spec` of a CRD.
public struct CRDSpec: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var group: String? { get { self["group"] } set { self["group"] = newValue } }
    public var scope: String? { get { self["scope"] } set { self["scope"] = newValue } }
    public var names: JSONMap { get { self[view: "names"] } set { self[view: "names"] = newValue } }
    public var versions: [JSONMap] { get { self["versions"] ?? [] } set { self["versions"] = newValue.isEmpty ? nil : newValue } }
}

/// An `authorization.k8s.io/v1` SelfSubjectAccessReview (create-only).
public struct SelfSubjectAccessReview: KubeResource {
    public static let resourceType = ResourceType(group: "authorization.k8s.io", version: "v1", kind: "SelfSubjectAccessReview", plural: "selfsubjectaccessreviews",
                                                  namespaced: false, hasStatusSubresource: false)
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var spec: JSONMap { get { self[view: "spec"] } set { self[view: "spec"] = newValue } }
    public var status: JSONMap { get { self[view: "status"] } set { self[view: "status"] = newValue } }
}
