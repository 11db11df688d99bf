public import Kube

/// Everything one reconcile of a populated PVC looks at, reduced to facts (pure input of `PopulateDecider`).
/// The executor fills it from caches and live reads; tests write it by hand.
public struct PopulateObservation: Sendable {
    /// The user's PVC.
    public struct Claim: Sendable {
        public var namespace: String
        public var name: String
        public var uid: String
        public var deleting: Bool = false
        public var phase: String? = nil
        public var volumeName: String? = nil
        public var requestedBytes: Int64? = nil
        public var storageClassName: String? = nil
        public var accessModes: [String] = []
        public var volumeMode: String? = nil
        public var selectedNode: String? = nil
        public var pinnedSnapshotID: String? = nil
        public var hasFinalizer: Bool = false

        public init(namespace: String, name: String, uid: String) {
            self.namespace = namespace
            self.name = name
            self.uid = uid
        }
    }

    /// Whether the PVC may use the KopiaSnapshot (grant rule applied elsewhere).
    public enum Access: Sendable, Equatable {
        /// Same namespace, or allowed by the named grant (nil for same namespace or a link's own grant check).
        case allowed(grant: String?)
        /// The reference is not allowed; the message names the grant that is missing.
        case denied(message: String)
        /// The KopiaSnapshot does not exist.
        case sourceNotFound(namespace: String, name: String)
    }

    /// What the KopiaSnapshot resolves to now (or the pinned ID checked against the repository).
    public enum Resolution: Sendable, Equatable {
        /// The repository was read; this snapshot is the one (the pinned one when the PVC has a pin).
        case snapshot(ResolvedSnapshotFacts)
        /// The repository lives on a PVC only the populator pod can read: the pod resolves and reports.
        case deferredToPod
        case failed(PopulatingError)
    }

    /// The populator pod.
    public struct PodFacts: Sendable, Equatable {
        public enum Phase: Sendable, Equatable { case pending, running, succeeded, failed }
        public var phase: Phase
        /// The termination message or status message (`ferry populate` writes its report there).
        public var message: String? = nil
        public var report: PopulateReport? = nil
        public init(phase: Phase, message: String? = nil, report: PopulateReport? = nil) {
            self.phase = phase
            self.message = message
            self.report = report
        }
    }

    /// The prime PVC in the work namespace.
    public struct PrimeFacts: Sendable, Equatable {
        public var phase: String?
        public var volumeName: String?
        public var failures: Int = 0
        /// Time since the last failed run was recorded (nil when none).
        public var sinceLastFailure: Duration?
        public init(phase: String? = nil, volumeName: String? = nil, failures: Int = 0, sinceLastFailure: Duration? = nil) {
            self.phase = phase
            self.volumeName = volumeName
            self.failures = failures
            self.sinceLastFailure = sinceLastFailure
        }
    }

    /// The PV bound to the prime PVC (or, after the swap, to the user PVC).
    public struct VolumeFacts: Sendable, Equatable {
        public var name: String
        public var reclaimPolicy: String?
        /// The reclaim policy Ferry saved before holding it at Retain.
        public var heldReclaimPolicy: String?
        public var claimNamespace: String?
        public var claimName: String?
        public var claimUID: String?
        public init(name: String, reclaimPolicy: String? = "Delete", heldReclaimPolicy: String? = nil,
                    claimNamespace: String? = nil, claimName: String? = nil, claimUID: String? = nil) {
            self.name = name
            self.reclaimPolicy = reclaimPolicy
            self.heldReclaimPolicy = heldReclaimPolicy
            self.claimNamespace = claimNamespace
            self.claimName = claimName
            self.claimUID = claimUID
        }
    }

    public var claim: Claim
    public var access: Access
    public var resolution: Resolution?
    /// nil = the StorageClass is missing (the prime PVC would wait forever).
    public var waitForFirstConsumer: Bool? = false
    public var prime: PrimeFacts?
    public var volume: VolumeFacts?
    public var credentialsExist = false
    public var pod: PodFacts?
    /// Where the prime PVC, the credentials Secret and the pod live.
    public var workNamespace: String

    public init(claim: Claim, access: Access, resolution: Resolution?, workNamespace: String) {
        self.claim = claim
        self.access = access
        self.resolution = resolution
        self.workNamespace = workNamespace
    }
}

/// A snapshot as the decider needs it.
public struct ResolvedSnapshotFacts: Sendable, Equatable {
    public var id: String
    public var identity: String
    public var startTime: String
    public var size: Int64
    public var files: Int64
    /// Why it was chosen (identity, as-of, previous).
    public var reason: String
    public init(id: String, identity: String, startTime: String, size: Int64, files: Int64, reason: String) {
        self.id = id
        self.identity = identity
        self.startTime = startTime
        self.size = size
        self.files = files
        self.reason = reason
    }
}
