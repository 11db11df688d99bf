public import CurlHTTP
public import Foundation
public import Logging

/// An opened Kopia repository for reading: format, contents, objects, manifests and snapshots behind one value.
/// This is what commands, the restore engine and the populator use.
///
/// `open` decrypts the format, loads the index and the manifests once; the value then reflects the repository as
/// of `open` (no refresh). Immutable and `Sendable`; every method may be called from many tasks at once.
public struct KopiaRepository: Sendable {
    public let storage: any BlobStorage
    public let format: RepositoryFormat
    /// Content reads (the `ContentReading` seam, implemented by `ContentManager`).
    public let contents: any ContentReading
    public let objects: ObjectStore
    public let manifests: ManifestStore
    /// Every live snapshot.
    public let catalog: SnapshotCatalog

    /// Assembles a repository from parts already opened (tests, or callers that opened them differently).
    public init(storage: any BlobStorage, format: RepositoryFormat, contents: any ContentReading,
                manifests: ManifestStore) throws(KopiaError) {
        self.storage = storage
        self.format = format
        self.contents = contents
        self.objects = ObjectStore(contents: contents)
        self.manifests = manifests
        self.catalog = try SnapshotCatalog(manifests: manifests)
    }

    /// Opens a repository: format (password KDF), index, manifests.
    /// - Throws: `KopiaError` — `.notARepository`, `.wrongPassword`, `.unknownAlgorithm`, `.unsupportedFormat`,
    ///   `.corruptBlob`/`.truncatedData` (index blobs, named), `.invalidManifest`, storage errors.
    public static func open(storage: any BlobStorage, password: String, logger: Logger) async throws
        -> KopiaRepository
    {
        try await open(storage: storage, unlock: .password(password), logger: logger)
    }

    /// `open(storage:password:logger:)` unlocked with the password or with the key it derives
    /// (``RepositoryKey``: no KDF).
    public static func open(storage: any BlobStorage, unlock: RepositoryFormat.Unlock, logger: Logger) async throws
        -> KopiaRepository
    {
        let format = try await RepositoryFormat.open(storage: storage, unlock: unlock)
        let contents = try await ContentManager.open(storage: storage, format: format, logger: logger)
        let manifests = try await ManifestStore.load(from: contents, logger: logger)
        let repository = try KopiaRepository(storage: storage, format: format, contents: contents,
                                             manifests: manifests)
        logger.debug("repository opened", metadata: [
            "kopia.repository": "\(storage.displayName)",
            "kopia.snapshot.count": "\(repository.catalog.snapshots.count)",
        ])
        return repository
    }

    /// Opens the repository at `location`; S3 settings come from `environment` and `s3Overrides` only
    /// (see `RepositoryLocation.makeStorage`) — never from the process environment.
    public static func open(
        location: RepositoryLocation, password: String, logger: Logger,
        environment: [String: String],
        s3Overrides: S3Configuration.Overrides = S3Configuration.Overrides(),
        httpClient: HTTPClient
    ) async throws -> KopiaRepository {
        let storage = try location.makeStorage(environment: environment, s3Overrides: s3Overrides,
                                               httpClient: httpClient, logger: logger)
        return try await open(storage: storage, password: password, logger: logger)
    }

    /// Every live snapshot, oldest first (complete and incomplete).
    public func snapshots() -> [SnapshotManifest] {
        catalog.snapshots
    }

    /// Applies a snapshot selection (see `SnapshotSelection` and `SnapshotCatalog.select(_:)`).
    public func select(_ selection: SnapshotSelection) throws(KopiaError) -> SnapshotManifest {
        try catalog.select(selection)
    }

    /// Reads and parses a directory object.
    /// - Throws: `KopiaError` `.invalidDirectory` (object named), content errors.
    public func directory(_ id: ObjectID) async throws -> Directory {
        let bytes = try await objects.read(id, maximumLength: Self.maximumDirectoryLength)
        return try Directory.parse(bytes, objectID: id)
    }

    /// Reads the listing of a directory entry.
    /// - Throws: `KopiaError` `.invalidArgument` when the entry is not a directory; as `directory(_:)`.
    public func directory(_ entry: DirectoryEntry) async throws -> Directory {
        guard entry.type == .directory else {
            throw KopiaError(.invalidArgument, "\"\(entry.name)\" is a \(entry.type), not a directory",
                             objectID: entry.objectID.description)
        }
        return try await directory(entry.objectID)
    }

    /// Opens an object for streaming.
    public func openObject(_ id: ObjectID) async throws -> ObjectReader {
        try await objects.open(id)
    }

    /// A symlink entry's target (the object's bytes as UTF-8).
    /// - Throws: `KopiaError` `.invalidArgument` when the entry is not a symlink; content errors.
    public func symlinkTarget(_ entry: DirectoryEntry) async throws -> String {
        guard entry.type == .symlink else {
            throw KopiaError(.invalidArgument, "\"\(entry.name)\" is a \(entry.type), not a symlink",
                             objectID: entry.objectID.description)
        }
        let bytes = try await objects.read(entry.objectID, maximumLength: 1 << 20)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The entry at `path` inside a snapshot: `""`, `"/"` or `"."` is the root entry; otherwise components
    /// separated by `/` (empty and `.` components ignored, `..` refused).
    /// - Throws: `KopiaError` `.pathNotFound` naming the first missing component's path, `.unsafePath` for `..`,
    ///   directory and content errors.
    public func entry(at path: String, in snapshot: SnapshotManifest) async throws -> DirectoryEntry {
        var current = snapshot.rootEntry
        var walked: [String] = []
        for component in path.split(separator: "/") where component != "." {
            guard component != ".." else {
                throw KopiaError(.unsafePath, "paths inside a snapshot cannot contain \"..\"", path: path)
            }
            guard current.type == .directory else {
                throw KopiaError(.pathNotFound,
                                 "\"\(walked.joined(separator: "/"))\" is a \(current.type), not a directory, in snapshot \(snapshot.id)",
                                 path: path)
            }
            let listing = try await directory(current.objectID)
            guard let next = listing.entry(named: String(component)) else {
                walked.append(String(component))
                throw KopiaError(.pathNotFound,
                                 "\"\(walked.joined(separator: "/"))\" does not exist in snapshot \(snapshot.id)",
                                 path: path)
            }
            walked.append(String(component))
            current = next
        }
        return current
    }

    /// Directory listings larger than this are refused as damaged (a listing of a million entries is ~200 MB).
    public static let maximumDirectoryLength: Int64 = 512 << 20
}
