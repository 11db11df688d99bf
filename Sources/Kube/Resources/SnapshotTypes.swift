// Typed views of the resources Ferry reads and writes (kubernetes.md, ARCHITECTURE.md §1).

/// A `snapshot.storage.k8s.io/v1` VolumeSnapshot.
public struct VolumeSnapshot: KubeResource {
    public static let resourceType = ResourceType(group: "snapshot.storage.k8s.io", version: "v1", kind: "VolumeSnapshot", plural: "volumesnapshots",
                                                  namespaced: true, hasStatusSubresource: true)
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var spec: VolumeSnapshotSpec { get { self[view: "spec"] } set { self[view: "spec"] = newValue } }
    public var status: VolumeSnapshotStatus { get { self[view: "status"] } set { self[view: "status"] = newValue } }
}

/// `spec` of a VolumeSnapshot.
public struct VolumeSnapshotSpec: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var source: VolumeSnapshotSource { get { self[view: "source"] } set { self[view: "source"] = newValue } }
    public var volumeSnapshotClassName: String? { get { self["volumeSnapshotClassName"] } set { self["volumeSnapshotClassName"] = newValue } }
}

/// `spec.source` of a VolumeSnapshot.
public struct VolumeSnapshotSource: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var persistentVolumeClaimName: String? { get { self["persistentVolumeClaimName"] } set { self["persistentVolumeClaimName"] = newValue } }
    public var volumeSnapshotContentName: String? { get { self["volumeSnapshotContentName"] } set { self["volumeSnapshotContentName"] = newValue } }
}

/// `status` of a VolumeSnapshot.
public struct VolumeSnapshotStatus: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var boundVolumeSnapshotContentName: String? { get { self["boundVolumeSnapshotContentName"] } set { self["boundVolumeSnapshotContentName"] = newValue } }
    public var readyToUse: Bool? { get { self["readyToUse"] } set { self["readyToUse"] = newValue } }
    public var restoreSize: String? { get { self["restoreSize"] } set { self["restoreSize"] = newValue } }
    public var creationTime: String? { get { self["creationTime"] } set { self["creationTime"] = newValue } }
    public var error: JSONMap? { get { self["error"] } set { self["error"] = newValue } }
}

/// A `snapshot.storage.k8s.io/v1` VolumeSnapshotContent (cluster-scoped).
public struct VolumeSnapshotContent: KubeResource {
    public static let resourceType = ResourceType(group: "snapshot.storage.k8s.io", version: "v1", kind: "VolumeSnapshotContent", plural: "volumesnapshotcontents",
                                                  namespaced: false, hasStatusSubresource: true)
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var spec: VolumeSnapshotContentSpec { get { self[view: "spec"] } set { self[view: "spec"] = newValue } }
    public var status: VolumeSnapshotContentStatus { get { self[view: "status"] } set { self[view: "status"] = newValue } }
}

/// `spec` of a VolumeSnapshotContent.
public struct VolumeSnapshotContentSpec: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var driver: String? { get { self["driver"] } set { self["driver"] = newValue } }
    public var deletionPolicy: String? { get { self["deletionPolicy"] } set { self["deletionPolicy"] = newValue } }
    public var source: JSONMap { get { self[view: "source"] } set { self[view: "source"] = newValue } }
    public var volumeSnapshotRef: ObjectReference { get { self[view: "volumeSnapshotRef"] } set { self[view: "volumeSnapshotRef"] = newValue } }
    public var volumeSnapshotClassName: String? { get { self["volumeSnapshotClassName"] } set { self["volumeSnapshotClassName"] = newValue } }
    public var sourceVolumeMode: String? { get { self["sourceVolumeMode"] } set { self["sourceVolumeMode"] = newValue } }
}

/// `status` of a VolumeSnapshotContent.
public struct VolumeSnapshotContentStatus: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var snapshotHandle: String? { get { self["snapshotHandle"] } set { self["snapshotHandle"] = newValue } }
    public var readyToUse: Bool? { get { self["readyToUse"] } set { self["readyToUse"] = newValue } }
    public var restoreSize: Int64? { get { self["restoreSize"] } set { self["restoreSize"] = newValue } }
    public var creationTime: Int64? { get { self["creationTime"] } set { self["creationTime"] = newValue } }
}

/// A `snapshot.storage.k8s.io/v1` VolumeSnapshotClass.
public struct VolumeSnapshotClass: KubeResource {
    public static let resourceType = ResourceType(group: "snapshot.storage.k8s.io", version: "v1", kind: "VolumeSnapshotClass", plural: "volumesnapshotclasses",
                                                  namespaced: false, hasStatusSubresource: false)
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var driver: String? { get { self["driver"] } set { self["driver"] = newValue } }
    public var deletionPolicy: String? { get { self["deletionPolicy"] } set { self["deletionPolicy"] = newValue } }
    public var parameters: [String: String] { get { self["parameters"] ?? [:] } set { self["parameters"] = newValue.isEmpty ? nil : newValue } }
}
