/// The error of the Kopia populating flow: a code a condition reason or event reason comes from, a message a
/// person can act on, and a retry class (STYLE.md rule 5). Equality compares codes only.
public struct PopulatingError: Error, Sendable, CustomStringConvertible, Equatable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The reason string used for conditions and events.
        public let reason: String
        init(_ reason: String) { self.reason = reason }
        public var description: String { reason }

        /// The KopiaSnapshot spec is contradictory or malformed.
        public static let invalidSpec = Code("InvalidSpec")
        /// The repository Secret (or the customCA source) does not exist.
        public static let secretNotFound = Code("SecretNotFound")
        /// The repository Secret lacks a key or holds an unusable value.
        public static let invalidSecret = Code("InvalidSecret")
        /// Storage could not be reached or listed (network, permissions, no such bucket or directory).
        public static let repositoryUnreachable = Code("RepositoryUnreachable")
        /// The password does not open the repository.
        public static let wrongPassword = Code("WrongPassword")
        /// Nothing matches the requested identity / time / previous.
        public static let noMatchingSnapshot = Code("NoMatchingSnapshot")
        /// Both VolSync user-name forms hold snapshots (or a prefix matches several).
        public static let ambiguousIdentity = Code("AmbiguousIdentity")
        /// The snapshot pinned on the PVC no longer exists in the repository.
        public static let snapshotGone = Code("SnapshotGone")
        /// `spec.repositoryPVC` names a PVC that does not exist in the KopiaSnapshot's namespace.
        public static let repositoryPVCNotFound = Code("RepositoryPVCNotFound")
        /// The repository's data is damaged (a blob or content fails authentication, or is missing).
        public static let damagedRepository = Code("DamagedRepository")
        /// The PVC asks for less than the snapshot holds.
        public static let volumeTooSmall = Code("VolumeTooSmall")
        /// The PVC's volumeMode cannot hold a file tree.
        public static let unsupportedVolumeMode = Code("UnsupportedVolumeMode")
        /// The KopiaSnapshot the PVC names does not exist.
        public static let sourceNotFound = Code("PopulatorDataSourceNotFound")
        /// The populator pod failed.
        public static let populatorFailed = Code("PopulatorFailed")
        /// Anything else that is not one of the above.
        public static let internalError = Code("InternalError")
    }

    public enum Retry: Sendable, Equatable {
        /// Trying again without a change by a person will not help (but the controller still re-checks, slowly).
        case permanent
        /// Trying again may succeed.
        case transient
    }

    public var code: Code
    public var message: String
    public var retry: Retry

    public init(_ code: Code, _ message: String, retry: Retry? = nil) {
        self.code = code
        self.message = message
        self.retry = retry ?? Self.defaultRetry(code)
    }

    public var description: String { "\(code.reason): \(message)" }

    public static func == (a: PopulatingError, b: PopulatingError) -> Bool { a.code == b.code }

    static func defaultRetry(_ code: Code) -> Retry {
        switch code {
        case .repositoryUnreachable, .populatorFailed, .internalError, .secretNotFound, .sourceNotFound, .repositoryPVCNotFound: .transient
        default: .permanent
        }
    }
}
