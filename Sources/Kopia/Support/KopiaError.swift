/// The one error type of the Kopia engine.
///
/// Shaped like swift-certificates' errors: `code` is a struct over a private enum so new codes are not a
/// breaking change; `message` is written for a person and says what to do; the IDs involved (blob, content,
/// object, snapshot, path) travel as fields, not inside the text; `retry` tells callers whether trying again
/// can help (never decide on the message text). Equality compares codes only.
public struct KopiaError: Error, Sendable, CustomStringConvertible, Equatable, RetryClassifying {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Kind: String, Sendable {
            case notARepository, wrongPassword, unsupportedFormat, unknownAlgorithm
            case corruptBlob, truncatedData, blobNotFound, contentNotFound, corruptContent
            case invalidObjectID, invalidManifest, invalidDirectory, snapshotNotFound, ambiguousSelection
            case pathNotFound, unsafePath, storageFailure, invalidArgument, alreadyExists, ioFailure, cancelled
        }
        let kind: Kind
        init(_ kind: Kind) { self.kind = kind }
        public var description: String { kind.rawValue }

        /// The password is wrong, or the format blob is not a Kopia format blob.
        public static let wrongPassword = Code(.wrongPassword)
        /// No `kopia.repository` blob where the repository should be.
        public static let notARepository = Code(.notARepository)
        /// A format version, feature or layout this reader does not support.
        public static let unsupportedFormat = Code(.unsupportedFormat)
        /// A hash, encryption, compression, splitter, ECC or key-derivation name this engine does not know.
        public static let unknownAlgorithm = Code(.unknownAlgorithm)
        /// A blob's bytes fail authentication or do not parse (index, pack, format blob).
        public static let corruptBlob = Code(.corruptBlob)
        /// Data ended before a structure it must contain.
        public static let truncatedData = Code(.truncatedData)
        /// A blob the repository refers to is missing from storage.
        public static let blobNotFound = Code(.blobNotFound)
        /// No index entry for a content ID.
        public static let contentNotFound = Code(.contentNotFound)
        /// A content fails decryption, decompression or its hash check.
        public static let corruptContent = Code(.corruptContent)
        /// An object ID string does not follow the grammar.
        public static let invalidObjectID = Code(.invalidObjectID)
        /// A manifest entry or snapshot manifest does not parse.
        public static let invalidManifest = Code(.invalidManifest)
        /// A directory object does not parse or holds an entry Ferry refuses (unsafe name, unknown type).
        public static let invalidDirectory = Code(.invalidDirectory)
        /// The snapshot selection matched nothing.
        public static let snapshotNotFound = Code(.snapshotNotFound)
        /// The selection matched more than one thing and Ferry will not guess.
        public static let ambiguousSelection = Code(.ambiguousSelection)
        /// A path inside a snapshot does not exist.
        public static let pathNotFound = Code(.pathNotFound)
        /// A path would escape its target (traversal, symlink) and was refused.
        public static let unsafePath = Code(.unsafePath)
        /// The storage backend failed (I/O, network, permissions).
        public static let storageFailure = Code(.storageFailure)
        /// A caller passed a value the engine cannot use.
        public static let invalidArgument = Code(.invalidArgument)
        /// Something that must not be overwritten already exists.
        public static let alreadyExists = Code(.alreadyExists)
        /// A local file-system operation failed.
        public static let ioFailure = Code(.ioFailure)
        /// The task was cancelled.
        public static let cancelled = Code(.cancelled)
    }

    public var code: Code
    public var message: String
    /// Whether retrying the same operation can succeed.
    public var retry: RetryClass
    public var blobID: String?
    public var contentID: String?
    public var objectID: String?
    public var path: String?
    public var cause: (any Error)?
    public var file: String
    public var line: Int

    public init(
        _ code: Code, _ message: String, retry: RetryClass = .permanent,
        blobID: String? = nil, contentID: String? = nil, objectID: String? = nil, path: String? = nil,
        cause: (any Error)? = nil, file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.retry = retry
        self.blobID = blobID
        self.contentID = contentID
        self.objectID = objectID
        self.path = path
        self.cause = cause
        self.file = file
        self.line = line
    }

    public static func == (lhs: KopiaError, rhs: KopiaError) -> Bool { lhs.code == rhs.code }

    /// A one-line text for a person: the message, then the IDs involved, then the cause.
    public var description: String {
        var parts = [message]
        if let blobID { parts.append("blob \(blobID)") }
        if let contentID { parts.append("content \(contentID)") }
        if let objectID { parts.append("object \(objectID)") }
        if let path { parts.append("path \(path)") }
        var text = parts.joined(separator: "; ")
        if let cause { text += " (cause: \(cause))" }
        return text
    }

    /// Returns a copy with context added where it is still missing; existing IDs are kept.
    public func adding(blobID: String? = nil, contentID: String? = nil, objectID: String? = nil, path: String? = nil)
        -> KopiaError
    {
        var copy = self
        if copy.blobID == nil { copy.blobID = blobID }
        if copy.contentID == nil { copy.contentID = contentID }
        if copy.objectID == nil { copy.objectID = objectID }
        if copy.path == nil { copy.path = path }
        return copy
    }
}
