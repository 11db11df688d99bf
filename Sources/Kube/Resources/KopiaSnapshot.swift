// Ferry's KopiaSnapshot kind: which backups, in which repository (ARCHITECTURE.md §1; issue 13 item 1).
// The CRD is helm/ferry/crds/ferry.io_kopiasnapshots.yaml; keep the two in step.

/// Ferry's `ferry.io/v1alpha1` KopiaSnapshot, in the backup owner's namespace.
///
/// The spec names a repository (a Secret with VolSync's `kopia-config` keys, optionally a PVC holding a
/// `filesystem://` repository) and one source, as VolSync names it; the controller keeps `status` current with the
/// snapshot the spec resolves to, or a condition a person can act on.
public struct KopiaSnapshot: KubeResource {
    public static let resourceType = ResourceType(group: "ferry.io", version: "v1alpha1", kind: "KopiaSnapshot", plural: "kopiasnapshots",
                                                  namespaced: true, hasStatusSubresource: true)
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var spec: KopiaSnapshotSpec { get { self[view: "spec"] } set { self[view: "spec"] = newValue } }
    public var status: KopiaSnapshotStatus { get { self[view: "status"] } set { self[view: "status"] = newValue } }
}

/// `spec` of a KopiaSnapshot. Exactly one source form: `sourceIdentity`, `username` + `hostname` (+ `path`), or
/// `snapshotID`.
public struct KopiaSnapshotSpec: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    /// Name of a Secret in the KopiaSnapshot's namespace with `KOPIA_REPOSITORY`, `KOPIA_PASSWORD`, `AWS_*`.
    public var repository: String? { get { self["repository"] } set { self["repository"] = newValue } }
    /// A CA bundle for the repository's endpoint, as VolSync's `customCA`.
    public var customCA: CustomCA? { get { self["customCA"] } set { self["customCA"] = newValue } }
    /// A PVC in the KopiaSnapshot's namespace that holds a `filesystem://` repository (e.g. a CephFS RWX volume).
    public var repositoryPVC: String? { get { self["repositoryPVC"] } set { self["repositoryPVC"] = newValue } }
    /// The source as VolSync's ReplicationDestination names it.
    public var sourceIdentity: SourceIdentity { get { self[view: "sourceIdentity"] } set { self[view: "sourceIdentity"] = newValue } }
    /// Kopia's identity: `username@hostname[:path]`.
    public var username: String? { get { self["username"] } set { self["username"] = newValue } }
    public var hostname: String? { get { self["hostname"] } set { self["hostname"] = newValue } }
    public var path: String? { get { self["path"] } set { self["path"] = newValue } }
    /// A pinned snapshot (manifest ID or a unique prefix of one).
    public var snapshotID: String? { get { self["snapshotID"] } set { self["snapshotID"] = newValue } }
    /// RFC 3339: only snapshots that started at or before it.
    public var restoreAsOf: String? { get { self["restoreAsOf"] } set { self["restoreAsOf"] = newValue } }
    /// Skip the N newest matching snapshots (VolSync's `previous`).
    public var previous: Int? { get { self["previous"] } set { self["previous"] = newValue } }
    /// Authenticate every content after the restore, before hand-over.
    public var verify: Bool? { get { self["verify"] } set { self["verify"] = newValue } }
    /// List the repository's identities in `status.availableIdentities` even when the source matches.
    public var listIdentities: Bool? { get { self["listIdentities"] } set { self["listIdentities"] = newValue } }
}

/// VolSync's `customCA`: a key of a Secret or of a ConfigMap in the KopiaSnapshot's namespace.
public struct CustomCA: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var secretName: String? { get { self["secretName"] } set { self["secretName"] = newValue } }
    public var configMapName: String? { get { self["configMapName"] } set { self["configMapName"] = newValue } }
    public var key: String? { get { self["key"] } set { self["key"] = newValue } }
}

/// VolSync-compatible identity: `sourceName` in `sourceNamespace` (kopia-format.md §14.1).
public struct SourceIdentity: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var sourceName: String? { get { self["sourceName"] } set { self["sourceName"] = newValue } }
    public var sourceNamespace: String? { get { self["sourceNamespace"] } set { self["sourceNamespace"] = newValue } }
    /// The ReplicationSource's PVC (informational; VolSync's identity does not use it).
    public var sourcePVCName: String? { get { self["sourcePVCName"] } set { self["sourcePVCName"] = newValue } }
    /// VolSync's `sourcePathOverride` (default `/data`).
    public var sourcePath: String? { get { self["sourcePath"] } set { self["sourcePath"] = newValue } }
}

/// `status` of a KopiaSnapshot, kept current by the controller.
public struct KopiaSnapshotStatus: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var conditions: [Condition] { get { self["conditions"] ?? [] } set { self["conditions"] = newValue.isEmpty ? nil : newValue } }
    public var observedGeneration: Int64? { get { self["observedGeneration"] } set { self["observedGeneration"] = newValue } }
    /// The identities looked for, e.g. `webapp-backup-production@production:/data` (both VolSync forms).
    public var requestedIdentity: String? { get { self["requestedIdentity"] } set { self["requestedIdentity"] = newValue } }
    /// Complete snapshots of the requested identity.
    public var snapshotsFound: Int? { get { self["snapshotsFound"] } set { self["snapshotsFound"] = newValue } }
    /// The repository's identities, when nothing matches or when asked (`spec.listIdentities`).
    public var availableIdentities: [AvailableIdentity] {
        get { self["availableIdentities"] ?? [] }
        set { self["availableIdentities"] = newValue.isEmpty ? nil : newValue }
    }
    /// The snapshot the spec resolves to now.
    public var snapshot: ResolvedSnapshot? { get { self["snapshot"] } set { self["snapshot"] = newValue } }
    /// The repository location without credentials.
    public var repository: String? { get { self["repository"] } set { self["repository"] = newValue } }
    public var lastChecked: String? { get { self["lastChecked"] } set { self["lastChecked"] = newValue } }
}

/// One identity of a repository, with its number of snapshots and the newest one's start time.
public struct AvailableIdentity: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public init(identity: String, snapshots: Int, newest: String?) {
        self.object = [:]
        self.identity = identity
        self.snapshots = snapshots
        self.newest = newest
    }
    public var identity: String? { get { self["identity"] } set { self["identity"] = newValue } }
    public var snapshots: Int? { get { self["snapshots"] } set { self["snapshots"] = newValue } }
    public var newest: String? { get { self["newest"] } set { self["newest"] = newValue } }
}

/// The snapshot a KopiaSnapshot resolves to.
public struct ResolvedSnapshot: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
    public var id: String? { get { self["id"] } set { self["id"] = newValue } }
    public var identity: String? { get { self["identity"] } set { self["identity"] = newValue } }
    public var startTime: String? { get { self["startTime"] } set { self["startTime"] = newValue } }
    /// Total bytes of the files.
    public var size: Int64? { get { self["size"] } set { self["size"] = newValue } }
    public var files: Int64? { get { self["files"] } set { self["files"] = newValue } }
    public var directories: Int64? { get { self["directories"] } set { self["directories"] = newValue } }
}
