import Foundation
// Typed views of the resources Ferry reads and writes (kubernetes.md, ARCHITECTURE.md §1).

/// A `v1` PersistentVolumeClaim.
public struct PersistentVolumeClaim: KubeResource {
    public static let resourceType = ResourceType(group: "", version: "v1", kind: "PersistentVolumeClaim", plural: "persistentvolumeclaims",
                                                  namespaced: true, hasStatusSubresource: true)
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var spec: PersistentVolumeClaimSpec { get { self[view: "spec"] } set { self[view: "spec"] = newValue } }
    public var status: PersistentVolumeClaimStatus { get { self[view: "status"] } set { self[view: "status"] = newValue } }
}

/// `spec` of a PersistentVolumeClaim.
public struct PersistentVolumeClaimSpec: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var accessModes: [String] { get { self["accessModes"] ?? [] } set { self["accessModes"] = newValue.isEmpty ? nil : newValue } }
    public var storageClassName: String? { get { self["storageClassName"] } set { self["storageClassName"] = newValue } }
    public var volumeName: String? { get { self["volumeName"] } set { self["volumeName"] = newValue } }
    public var volumeMode: String? { get { self["volumeMode"] } set { self["volumeMode"] = newValue } }
    public var resources: ResourceRequirements { get { self[view: "resources"] } set { self[view: "resources"] = newValue } }
    public var dataSource: TypedObjectReference? { get { self["dataSource"] } set { self["dataSource"] = newValue } }
    public var dataSourceRef: TypedObjectReference? { get { self["dataSourceRef"] } set { self["dataSourceRef"] = newValue } }
    public var selector: JSONMap? { get { self["selector"] } set { self["selector"] = newValue } }
    public var volumeAttributesClassName: String? { get { self["volumeAttributesClassName"] } set { self["volumeAttributesClassName"] = newValue } }
}

/// `status` of a PersistentVolumeClaim.
public struct PersistentVolumeClaimStatus: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var phase: String? { get { self["phase"] } set { self["phase"] = newValue } }
    public var capacity: [String: String] { get { self["capacity"] ?? [:] } set { self["capacity"] = newValue.isEmpty ? nil : newValue } }
    public var accessModes: [String] { get { self["accessModes"] ?? [] } set { self["accessModes"] = newValue.isEmpty ? nil : newValue } }
    public var conditions: [Condition] { get { self["conditions"] ?? [] } set { self["conditions"] = newValue.isEmpty ? nil : newValue } }
}

/// Resource requests and limits (quantities as strings).
public struct ResourceRequirements: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var requests: [String: String] { get { self["requests"] ?? [:] } set { self["requests"] = newValue.isEmpty ? nil : newValue } }
    public var limits: [String: String] { get { self["limits"] ?? [:] } set { self["limits"] = newValue.isEmpty ? nil : newValue } }
}

/// A typed reference (`dataSource`, `dataSourceRef`, `DataSourceLink.spec.sourceRef`).
public struct TypedObjectReference: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var apiGroup: String? { get { self["apiGroup"] } set { self["apiGroup"] = newValue } }
    public var kind: String? { get { self["kind"] } set { self["kind"] = newValue } }
    public var name: String? { get { self["name"] } set { self["name"] = newValue } }
    public var namespace: String? { get { self["namespace"] } set { self["namespace"] = newValue } }
}

/// A `v1` PersistentVolume (cluster-scoped).
public struct PersistentVolume: KubeResource {
    public static let resourceType = ResourceType(group: "", version: "v1", kind: "PersistentVolume", plural: "persistentvolumes",
                                                  namespaced: false, hasStatusSubresource: true)
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var spec: PersistentVolumeSpec { get { self[view: "spec"] } set { self[view: "spec"] = newValue } }
    public var status: PersistentVolumeStatus { get { self[view: "status"] } set { self[view: "status"] = newValue } }
}

/// `spec` of a PersistentVolume.
public struct PersistentVolumeSpec: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var capacity: [String: String] { get { self["capacity"] ?? [:] } set { self["capacity"] = newValue.isEmpty ? nil : newValue } }
    public var accessModes: [String] { get { self["accessModes"] ?? [] } set { self["accessModes"] = newValue.isEmpty ? nil : newValue } }
    public var persistentVolumeReclaimPolicy: String? { get { self["persistentVolumeReclaimPolicy"] } set { self["persistentVolumeReclaimPolicy"] = newValue } }
    public var storageClassName: String? { get { self["storageClassName"] } set { self["storageClassName"] = newValue } }
    public var claimRef: ObjectReference? { get { self["claimRef"] } set { self["claimRef"] = newValue } }
    public var csi: CSIPersistentVolumeSource? { get { self["csi"] } set { self["csi"] = newValue } }
    public var volumeMode: String? { get { self["volumeMode"] } set { self["volumeMode"] = newValue } }
    public var mountOptions: [String] { get { self["mountOptions"] ?? [] } set { self["mountOptions"] = newValue.isEmpty ? nil : newValue } }
    public var nodeAffinity: JSONMap? { get { self["nodeAffinity"] } set { self["nodeAffinity"] = newValue } }
}

/// `status` of a PersistentVolume.
public struct PersistentVolumeStatus: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var phase: String? { get { self["phase"] } set { self["phase"] = newValue } }
    public var message: String? { get { self["message"] } set { self["message"] = newValue } }
    public var reason: String? { get { self["reason"] } set { self["reason"] = newValue } }
}

/// `spec.csi` of a PersistentVolume.
public struct CSIPersistentVolumeSource: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var driver: String? { get { self["driver"] } set { self["driver"] = newValue } }
    public var volumeHandle: String? { get { self["volumeHandle"] } set { self["volumeHandle"] = newValue } }
    public var fsType: String? { get { self["fsType"] } set { self["fsType"] = newValue } }
    public var readOnly: Bool? { get { self["readOnly"] } set { self["readOnly"] = newValue } }
    public var volumeAttributes: [String: String] { get { self["volumeAttributes"] ?? [:] } set { self["volumeAttributes"] = newValue.isEmpty ? nil : newValue } }
}

/// A `v1` Pod.
public struct Pod: KubeResource {
    public static let resourceType = ResourceType(group: "", version: "v1", kind: "Pod", plural: "pods",
                                                  namespaced: true, hasStatusSubresource: true)
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var spec: PodSpec { get { self[view: "spec"] } set { self[view: "spec"] = newValue } }
    public var status: PodStatus { get { self[view: "status"] } set { self[view: "status"] = newValue } }
}

/// `spec` of a Pod (containers and volumes are kept as JSON).
public struct PodSpec: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var nodeName: String? { get { self["nodeName"] } set { self["nodeName"] = newValue } }
    public var serviceAccountName: String? { get { self["serviceAccountName"] } set { self["serviceAccountName"] = newValue } }
    public var restartPolicy: String? { get { self["restartPolicy"] } set { self["restartPolicy"] = newValue } }
    public var containers: [JSONMap] { get { self["containers"] ?? [] } set { self["containers"] = newValue.isEmpty ? nil : newValue } }
    public var volumes: [JSONMap] { get { self["volumes"] ?? [] } set { self["volumes"] = newValue.isEmpty ? nil : newValue } }
}

/// `status` of a Pod.
public struct PodStatus: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var phase: String? { get { self["phase"] } set { self["phase"] = newValue } }
    public var message: String? { get { self["message"] } set { self["message"] = newValue } }
    public var reason: String? { get { self["reason"] } set { self["reason"] = newValue } }
    public var conditions: [Condition] { get { self["conditions"] ?? [] } set { self["conditions"] = newValue.isEmpty ? nil : newValue } }
}

/// A `v1` Secret. `data` values are base64; see `decodedData`.
public struct Secret: KubeResource {
    public static let resourceType = ResourceType(group: "", version: "v1", kind: "Secret", plural: "secrets",
                                                  namespaced: true, hasStatusSubresource: false)
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var type: String? { get { self["type"] } set { self["type"] = newValue } }
    public var data: [String: String] { get { self["data"] ?? [:] } set { self["data"] = newValue.isEmpty ? nil : newValue } }
    public var stringData: [String: String] { get { self["stringData"] ?? [:] } set { self["stringData"] = newValue.isEmpty ? nil : newValue } }
}

/// A `v1` Namespace.
public struct Namespace: KubeResource {
    public static let resourceType = ResourceType(group: "", version: "v1", kind: "Namespace", plural: "namespaces",
                                                  namespaced: false, hasStatusSubresource: true)
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var status: JSONMap { get { self[view: "status"] } set { self[view: "status"] = newValue } }
}

/// A core `v1` Event (what `kubectl describe` shows).
public struct CoreEvent: KubeResource {
    public static let resourceType = ResourceType(group: "", version: "v1", kind: "Event", plural: "events",
                                                  namespaced: true, hasStatusSubresource: false)
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var involvedObject: ObjectReference { get { self[view: "involvedObject"] } set { self[view: "involvedObject"] = newValue } }
    public var reason: String? { get { self["reason"] } set { self["reason"] = newValue } }
    public var message: String? { get { self["message"] } set { self["message"] = newValue } }
    public var type: String? { get { self["type"] } set { self["type"] = newValue } }
    public var count: Int? { get { self["count"] } set { self["count"] = newValue } }
    public var firstTimestamp: String? { get { self["firstTimestamp"] } set { self["firstTimestamp"] = newValue } }
    public var lastTimestamp: String? { get { self["lastTimestamp"] } set { self["lastTimestamp"] = newValue } }
    public var eventTime: String? { get { self["eventTime"] } set { self["eventTime"] = newValue } }
    public var source: EventSource { get { self[view: "source"] } set { self[view: "source"] = newValue } }
    public var reportingComponent: String? { get { self["reportingComponent"] } set { self["reportingComponent"] = newValue } }
    public var reportingInstance: String? { get { self["reportingInstance"] } set { self["reportingInstance"] = newValue } }
    public var action: String? { get { self["action"] } set { self["action"] = newValue } }
}

/// `source` of a core Event.
public struct EventSource: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var component: String? { get { self["component"] } set { self["component"] = newValue } }
    public var host: String? { get { self["host"] } set { self["host"] = newValue } }
}

extension Secret {
    /// `data` decoded from base64 (entries that are not valid base64 are skipped).
    public var decodedData: [String: [UInt8]] {
        data.compactMapValues { Data(base64Encoded: $0).map { [UInt8]($0) } }
    }
}
