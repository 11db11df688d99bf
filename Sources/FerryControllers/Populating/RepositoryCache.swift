public import CurlHTTP
public import Foundation
public import Kopia
public import Logging

/// Opened repositories, one per repository Secret version, with their index refreshed when older than
/// `refreshInterval` (new snapshots appear without a restart; a changed Secret opens afresh).
///
/// An actor: opens of the same key are shared (one scrypt per Secret version), different keys open in parallel.
/// The credentials come only from the Secret (`RepositoryCredentials.environment`); the controller's process
/// environment is never consulted.
public actor RepositoryCache {
    public struct Key: Hashable, Sendable {
        public var namespace: String
        public var secret: String
        public var secretVersion: String
        public var caDigest: Int
        public init(namespace: String, secret: String, secretVersion: String, caDigest: Int) {
            self.namespace = namespace
            self.secret = secret
            self.secretVersion = secretVersion
            self.caDigest = caDigest
        }
    }

    /// How a repository is opened (injected: tests count opens or fail them).
    public typealias Opener = @Sendable (RepositoryCredentials, Logger) async throws -> KopiaRepository

    private struct Entry {
        var task: Task<KopiaRepository, any Error>
        var loadedAt: ContinuousClock.Instant
    }

    private var entries: [Key: Entry] = [:]
    private let refreshInterval: Duration
    private let opener: Opener
    private let logger: Logger

    /// - Parameters:
    ///   - httpClient: the S3 client every opened repository shares (the executable owns its lifetime).
    ///   - opener: replaces how repositories are opened (tests).
    public init(refreshInterval: Duration = .seconds(15), httpClient: HTTPClient, logger: Logger, opener: Opener? = nil) {
        self.refreshInterval = refreshInterval
        self.logger = logger
        self.opener = opener ?? { credentials, logger in
            try await Self.open(credentials, logger, httpClient: httpClient)
        }
    }

    /// The repository for these credentials; re-reads its index when the cached copy is older than the refresh
    /// interval (or `forceRefresh`), or was read before `freshAsOf` (a claim resolved for the first time asks for an
    /// index read after it began: a backup that finished just before the PVC was created must be seen, not the
    /// older set a cached index still holds). A failed open is not cached.
    public func repository(_ key: Key, credentials: RepositoryCredentials, forceRefresh: Bool = false,
                           freshAsOf: ContinuousClock.Instant? = nil) async throws -> KopiaRepository {
        // Older versions of the same Secret are dropped.
        for k in entries.keys where k.namespace == key.namespace && k.secret == key.secret && k != key {
            entries[k] = nil
        }
        let now = ContinuousClock.now
        if let entry = entries[key] {
            let stale = freshAsOf.map { entry.loadedAt < $0 } ?? false
            if !forceRefresh, !stale, now - entry.loadedAt < refreshInterval {
                return try await value(of: entry.task, key: key)
            }
            let previous = entry.task
            let logger = self.logger
            let location = credentials.location
            let task = Task { () async throws -> KopiaRepository in
                let old = try await previous.value
                let fresh = try await old.refreshed(logger: logger)
                // A refresh lists index blobs only, and a filesystem repository whose directory vanished lists as
                // empty: without this check its snapshots would read as gone rather than the repository as
                // unreachable. One metadata read (stat / HEAD) per refresh.
                do { _ = try await fresh.storage.metadata(FormatBlob.blobID) } catch {
                    throw PopulatingError(.repositoryUnreachable,
                        "repository \(location) is gone or unreadable: its \(FormatBlob.blobID) blob cannot be read (\(error))",
                        retry: .transient)
                }
                return fresh
            }
            entries[key] = Entry(task: task, loadedAt: now)
            return try await value(of: task, key: key)
        }
        let opener = self.opener
        let logger = self.logger
        let task = Task { try await opener(credentials, logger) }
        entries[key] = Entry(task: task, loadedAt: now)
        return try await value(of: task, key: key)
    }

    /// Forgets a Secret's repositories (the Secret was deleted).
    public func forget(namespace: String, secret: String) {
        for k in entries.keys where k.namespace == namespace && k.secret == secret { entries[k] = nil }
    }

    private func value(of task: Task<KopiaRepository, any Error>, key: Key) async throws -> KopiaRepository {
        do {
            return try await task.value
        } catch {
            if entries[key]?.task == task { entries[key] = nil }
            throw error
        }
    }

    /// Opens with the Secret's keys only; a custom CA is written to a private file for the S3 client.
    static func open(_ c: RepositoryCredentials, _ logger: Logger, httpClient: HTTPClient) async throws -> KopiaRepository {
        var env = c.environment
        if let ca = c.caBundle {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-ca", isDirectory: true)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            let file = dir.appendingPathComponent("ca-\(UInt64(bitPattern: Int64(ca.hashValue))).pem")
            try Data(ca).write(to: file, options: .atomic)
            env["AWS_CA_BUNDLE"] = file.path
        } else {
            env["AWS_CA_BUNDLE"] = nil
        }
        return try await KopiaRepository.open(location: c.location, password: c.password, logger: logger,
                                              environment: env, httpClient: httpClient)
    }
}
