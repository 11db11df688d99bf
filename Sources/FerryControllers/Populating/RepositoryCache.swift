public import CurlHTTP
public import Foundation
public import Kopia
public import Logging

/// Opened repositories, one per repository Secret version, with their index refreshed when older than
/// `refreshInterval` (new snapshots appear without a restart; a changed Secret opens afresh).
///
/// An actor: opens of the same key are shared (one scrypt per Secret version), different keys open in parallel.
/// The credentials come only from the Secret (`RepositoryCredentials.environment`); the controller's process
/// environment is never consulted. Bounded by ``RepositoryCachePolicy`` (count, total index entries, idle time;
/// least recently used first); ``forget(namespace:secret:)`` closes a Secret's repositories at once (its last
/// KopiaSnapshot went away). A wrong password is remembered per Secret version for a while, so retries of a
/// Secret nobody changed cost no scrypt.
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
        var lastUsed: ContinuousClock.Instant
        var indexEntries: Int?
    }

    /// What the cache holds, for metrics and tests.
    public struct Statistics: Sendable, Hashable {
        /// Repositories open (or opening) now.
        public var open: Int
        /// Full opens started since the cache was made (each one a key derivation and an index load).
        public var opens: Int
        /// Index refreshes started.
        public var refreshes: Int
        /// Repositories closed by the policy or by `forget`.
        public var evictions: Int
    }

    private var entries: [Key: Entry] = [:]
    private var wrongPasswords: [Key: (error: any Error, at: ContinuousClock.Instant)] = [:]
    private var counters = Statistics(open: 0, opens: 0, refreshes: 0, evictions: 0)
    private let refreshInterval: Duration
    private let policy: RepositoryCachePolicy
    private let opener: Opener
    private let logger: Logger

    /// - Parameters:
    ///   - httpClient: the S3 client every opened repository shares (the executable owns its lifetime).
    ///   - policy: how many repositories stay open, and for how long.
    ///   - opener: replaces how repositories are opened (tests).
    public init(refreshInterval: Duration = .seconds(15), policy: RepositoryCachePolicy = RepositoryCachePolicy(),
                httpClient: HTTPClient, logger: Logger, opener: Opener? = nil) {
        self.refreshInterval = refreshInterval
        self.policy = policy
        self.logger = logger
        self.opener = opener ?? { credentials, logger in
            try await Self.open(credentials, logger, httpClient: httpClient)
        }
    }

    /// How old a cached index may get before a caller's request re-reads it.
    public nonisolated var indexRefreshInterval: Duration { refreshInterval }

    public var statistics: Statistics {
        var s = counters
        s.open = entries.count
        return s
    }

    /// The repository for these credentials; re-reads its index when the cached copy is older than the refresh
    /// interval (or `forceRefresh`), or was read before `freshAsOf` (a claim resolved for the first time asks for an
    /// index read after it was created: a backup that finished just before the PVC was created must be seen, not
    /// the older set a cached index still holds). A failed open is not cached, except a wrong password, which is
    /// answered from memory for the same Secret version (``RepositoryCachePolicy/wrongPasswordMemory``).
    public func repository(_ key: Key, credentials: RepositoryCredentials, forceRefresh: Bool = false,
                           freshAsOf: ContinuousClock.Instant? = nil) async throws -> KopiaRepository {
        // Older versions of the same Secret are dropped.
        for k in entries.keys where k.namespace == key.namespace && k.secret == key.secret && k != key {
            entries[k] = nil
            counters.evictions += 1
        }
        for k in wrongPasswords.keys where k.namespace == key.namespace && k.secret == key.secret && k != key {
            wrongPasswords[k] = nil
        }
        let now = ContinuousClock.now
        if let failure = wrongPasswords[key] {
            if policy.remembersFailure(since: failure.at, now: now) { throw failure.error }
            wrongPasswords[key] = nil
        }
        defer { evict(now: now) }
        if var entry = entries[key] {
            entry.lastUsed = now
            entries[key] = entry
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
            counters.refreshes += 1
            entries[key] = Entry(task: task, loadedAt: now, lastUsed: now, indexEntries: entry.indexEntries)
            return try await value(of: task, key: key)
        }
        let opener = self.opener
        let logger = self.logger
        let task = Task { try await opener(credentials, logger) }
        counters.opens += 1
        logger.info("repository opening", metadata: [
            "kopia.repository": "\(credentials.location)", "secret.namespace": "\(key.namespace)", "secret.name": "\(key.secret)",
        ])
        entries[key] = Entry(task: task, loadedAt: now, lastUsed: now, indexEntries: nil)
        return try await value(of: task, key: key)
    }

    /// Closes a Secret's repositories (the Secret was deleted, or no KopiaSnapshot uses it any more).
    public func forget(namespace: String, secret: String) {
        for k in entries.keys where k.namespace == namespace && k.secret == secret {
            entries[k] = nil
            counters.evictions += 1
        }
        for k in wrongPasswords.keys where k.namespace == namespace && k.secret == secret { wrongPasswords[k] = nil }
    }

    /// Closes every repository whose Secret is not in `secrets` (namespace, name): what the KopiaSnapshot
    /// controller calls after a KopiaSnapshot went away.
    public func retainOnly(_ secrets: Set<SecretName>) {
        for k in entries.keys where !secrets.contains(SecretName(namespace: k.namespace, name: k.secret)) {
            entries[k] = nil
            counters.evictions += 1
        }
        for k in wrongPasswords.keys where !secrets.contains(SecretName(namespace: k.namespace, name: k.secret)) {
            wrongPasswords[k] = nil
        }
    }

    /// The Secrets of the repositories open now.
    public var openSecrets: Set<SecretName> { Set(entries.keys.map { SecretName(namespace: $0.namespace, name: $0.secret) }) }

    /// A repository Secret's namespace and name.
    public struct SecretName: Hashable, Sendable {
        public var namespace: String
        public var name: String
        public init(namespace: String, name: String) {
            self.namespace = namespace
            self.name = name
        }
    }

    private func evict(now: ContinuousClock.Instant) {
        let facts = entries.map { RepositoryCachePolicy.EntryFacts(key: $0.key, lastUsed: $0.value.lastUsed, indexEntries: $0.value.indexEntries) }
        for key in policy.evictions(facts, now: now) {
            entries[key] = nil
            counters.evictions += 1
            logger.info("repository closed", metadata: ["secret.namespace": "\(key.namespace)", "secret.name": "\(key.secret)"])
        }
        let stale = wrongPasswords.filter { !policy.remembersFailure(since: $0.value.at, now: now) }.map(\.key)
        for key in stale { wrongPasswords[key] = nil }
    }

    private func value(of task: Task<KopiaRepository, any Error>, key: Key) async throws -> KopiaRepository {
        do {
            let repository = try await task.value
            if entries[key]?.task == task { entries[key]?.indexEntries = (repository.contents as? ContentManager)?.rawEntryCount ?? 0 }
            return repository
        } catch {
            if entries[key]?.task == task {
                entries[key] = nil
                if Self.isWrongPassword(error) { wrongPasswords[key] = (error, ContinuousClock.now) }
            }
            throw error
        }
    }

    static func isWrongPassword(_ error: any Error) -> Bool {
        if let k = error as? KopiaError { return k.code == .wrongPassword }
        if let p = error as? PopulatingError { return p.code == .wrongPassword }
        return false
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
