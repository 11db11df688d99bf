/// `metadata` of every object.
public struct ObjectMeta: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }

    public var name: String? { get { self["name"] } set { self["name"] = newValue } }
    public var generateName: String? { get { self["generateName"] } set { self["generateName"] = newValue } }
    public var namespace: String? { get { self["namespace"] } set { self["namespace"] = newValue } }
    public var uid: String? { get { self["uid"] } set { self["uid"] = newValue } }
    public var resourceVersion: String? { get { self["resourceVersion"] } set { self["resourceVersion"] = newValue } }
    public var generation: Int64? { get { self["generation"] } set { self["generation"] = newValue } }
    public var creationTimestamp: String? { get { self["creationTimestamp"] } set { self["creationTimestamp"] = newValue } }
    public var deletionTimestamp: String? { get { self["deletionTimestamp"] } set { self["deletionTimestamp"] = newValue } }
    public var labels: [String: String] { get { self["labels"] ?? [:] } set { self["labels"] = newValue.isEmpty ? nil : newValue } }
    public var annotations: [String: String] {
        get { self["annotations"] ?? [:] }
        set { self["annotations"] = newValue.isEmpty ? nil : newValue }
    }
    public var finalizers: [String] { get { self["finalizers"] ?? [] } set { self["finalizers"] = newValue.isEmpty ? nil : newValue } }
    public var ownerReferences: [OwnerReference] {
        get { self["ownerReferences"] ?? [] }
        set { self["ownerReferences"] = newValue.isEmpty ? nil : newValue }
    }
}

public struct OwnerReference: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool = false) {
        self.object = ["apiVersion": .string(apiVersion), "kind": .string(kind), "name": .string(name), "uid": .string(uid)]
        if controller { self.object["controller"] = true }
    }
    public var apiVersion: String? { get { self["apiVersion"] } set { self["apiVersion"] = newValue } }
    public var kind: String? { get { self["kind"] } set { self["kind"] = newValue } }
    public var name: String? { get { self["name"] } set { self["name"] = newValue } }
    public var uid: String? { get { self["uid"] } set { self["uid"] = newValue } }
    public var controller: Bool? { get { self["controller"] } set { self["controller"] = newValue } }
}

/// `core/v1` ObjectReference (events' involvedObject, PV claimRef, VSC volumeSnapshotRef).
public struct ObjectReference: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public init(apiVersion: String? = nil, kind: String? = nil, namespace: String? = nil, name: String? = nil,
                uid: String? = nil, resourceVersion: String? = nil) {
        self.object = [:]
        self.apiVersion = apiVersion
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.uid = uid
        self.resourceVersion = resourceVersion
    }
    public var apiVersion: String? { get { self["apiVersion"] } set { self["apiVersion"] = newValue } }
    public var kind: String? { get { self["kind"] } set { self["kind"] = newValue } }
    public var namespace: String? { get { self["namespace"] } set { self["namespace"] = newValue } }
    public var name: String? { get { self["name"] } set { self["name"] = newValue } }
    public var uid: String? { get { self["uid"] } set { self["uid"] = newValue } }
    public var resourceVersion: String? { get { self["resourceVersion"] } set { self["resourceVersion"] = newValue } }
    public var fieldPath: String? { get { self["fieldPath"] } set { self["fieldPath"] = newValue } }
}

/// A `metav1.Condition` (also fits most older condition shapes).
public struct Condition: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public init(type: String, status: String, reason: String? = nil, message: String? = nil,
                lastTransitionTime: String? = nil, observedGeneration: Int64? = nil) {
        self.object = ["type": .string(type), "status": .string(status)]
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
        self.observedGeneration = observedGeneration
    }
    public var type: String? { get { self["type"] } set { self["type"] = newValue } }
    public var status: String? { get { self["status"] } set { self["status"] = newValue } }
    public var reason: String? { get { self["reason"] } set { self["reason"] = newValue } }
    public var message: String? { get { self["message"] } set { self["message"] = newValue } }
    public var lastTransitionTime: String? { get { self["lastTransitionTime"] } set { self["lastTransitionTime"] = newValue } }
    public var observedGeneration: Int64? { get { self["observedGeneration"] } set { self["observedGeneration"] = newValue } }
}
