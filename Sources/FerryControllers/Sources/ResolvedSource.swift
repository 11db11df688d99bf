public import CSI
public import Kube

/// A source resolved to what `CreateVolume` needs, with the facts the PV's provenance records.
public struct ResolvedSource: Sendable, Hashable {
    public var reference: SourceReference
    /// UID of the VolumeSnapshot or PersistentVolumeClaim that was resolved.
    public var uid: String
    /// `snapshot{snapshot_id}` or `volume{volume_id}`.
    public var contentSource: VolumeContentSource
    /// The snapshot handle or the source volume's handle.
    public var handle: String
    /// The VolumeSnapshotContent (snapshots) or PersistentVolume (clones) that holds the handle.
    public var holderName: String
    /// The snapshot's restoreSize or the source claim's request, when known.
    public var sizeBytes: Int64?

    public init(reference: SourceReference, uid: String, contentSource: VolumeContentSource, handle: String,
                holderName: String, sizeBytes: Int64?) {
        self.reference = reference
        self.uid = uid
        self.contentSource = contentSource
        self.handle = handle
        self.holderName = holderName
        self.sizeBytes = sizeBytes
    }
}

/// Why a source cannot be used (yet). ``message`` is external-provisioner's text, wrapped the same way
/// ("error getting handle for DataSource Type VolumeSnapshot by Name X: …").
public struct SourceProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// The source object does not exist (or was deleted).
        case notFound = "SourceNotFound"
        /// Exists but not usable yet: not bound, not ready, no handle, being deleted.
        case notReady = "SourceNotReady"
        /// Will not work without a change by a person: another driver, too small a request, a mode change.
        case incompatible = "SourceIncompatible"
        /// The driver lacks the capability (restore or clone).
        case unsupported = "SourceUnsupported"
    }
    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// A condition/event reason.
    public var reason: String { kind.rawValue }
    public var description: String { message }
}
