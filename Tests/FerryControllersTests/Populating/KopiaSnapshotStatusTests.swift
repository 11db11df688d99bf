import CurlHTTP
import FerryControllers
import Foundation
import Kopia
import KopiaTestSupport
import Kube
import Logging
import Synchronization
import Testing

/// The pure parts of the owner-side KopiaSnapshot reconciler and the repository cache's bounds: which repositories
/// are closed, how long a wrong password is remembered, how fresh a first claim's index must be, the status of a
/// repository on a PVC, when a KopiaSnapshot is looked at again — and the cache itself with a counting opener over
/// the real fs-identities repository.
struct KopiaSnapshotStatusTests {
    typealias Facts = RepositoryCachePolicy.EntryFacts<String>
    static let t0 = ContinuousClock.now

    static func facts(_ key: String, usedSecondsAgo: Int, entries: Int?) -> Facts {
        Facts(key: key, lastUsed: t0 - .seconds(usedSecondsAgo), indexEntries: entries)
    }

    @Test func idleRepositoriesAreClosedAndBusyOnesKept() {
        let policy = RepositoryCachePolicy(maxRepositories: 10, maxIndexEntries: 1_000, idleTimeout: .seconds(600))
        let evicted = policy.evictions([Self.facts("idle", usedSecondsAgo: 601, entries: 10),
                                        Self.facts("busy", usedSecondsAgo: 5, entries: 10),
                                        Self.facts("opening", usedSecondsAgo: 900, entries: nil)], now: Self.t0)
        #expect(evicted == ["idle"])
    }

    @Test func overTheCountTheLeastRecentlyUsedGoFirst() {
        let policy = RepositoryCachePolicy(maxRepositories: 2, maxIndexEntries: 1_000_000, idleTimeout: .seconds(600))
        let evicted = policy.evictions([Self.facts("a", usedSecondsAgo: 30, entries: 1),
                                        Self.facts("b", usedSecondsAgo: 20, entries: 1),
                                        Self.facts("c", usedSecondsAgo: 10, entries: 1),
                                        Self.facts("d", usedSecondsAgo: 1, entries: 1)], now: Self.t0)
        #expect(evicted == ["a", "b"])
    }

    @Test func overTheIndexBudgetOlderRepositoriesCloseButTheNewestStaysEvenAlone() {
        let policy = RepositoryCachePolicy(maxRepositories: 10, maxIndexEntries: 100, idleTimeout: .seconds(600))
        #expect(policy.evictions([Self.facts("old", usedSecondsAgo: 50, entries: 60),
                                  Self.facts("mid", usedSecondsAgo: 40, entries: 30),
                                  Self.facts("new", usedSecondsAgo: 1, entries: 50)], now: Self.t0) == ["old"])
        // One repository bigger than the whole budget is the one in use: it stays.
        #expect(policy.evictions([Self.facts("huge", usedSecondsAgo: 1, entries: 500)], now: Self.t0).isEmpty)
        // A repository still opening has no size yet and is never chosen.
        #expect(policy.evictions([Self.facts("opening", usedSecondsAgo: 50, entries: nil),
                                  Self.facts("huge", usedSecondsAgo: 1, entries: 500)], now: Self.t0).isEmpty)
    }

    @Test func aWrongPasswordIsRememberedOnlyForItsWindow() {
        let policy = RepositoryCachePolicy(wrongPasswordMemory: .seconds(120))
        #expect(policy.remembersFailure(since: Self.t0 - .seconds(119), now: Self.t0))
        #expect(!policy.remembersFailure(since: Self.t0 - .seconds(120), now: Self.t0))
    }

    @Test(arguments: [
        // (created, seconds before now it was created, expected seconds before now the index must have been read)
        ("2026-12-05T10:00:00Z", 60.0, 58.0),
        ("2026-12-05T10:00:00.250Z", 10.0, 8.0),
        ("2026-12-05T10:00:00Z", 1.0, 0.0),  // within the margin: read now
        ("2026-12-05T10:00:00Z", -5.0, 0.0),  // a clock behind the API server's: read now
    ])
    func aFirstClaimNeedsAnIndexReadAfterItsCreationPlusAMargin(_ created: String, _ ago: Double, _ expected: Double) throws {
        let createdDate = try #require(ISO8601DateFormatter.fractional(created))
        let now = ContinuousClock.now
        let required = KopiaIndexFreshness.requiredRead(created: created, wallNow: createdDate.addingTimeInterval(ago), monotonicNow: now)
        let before = now - required
        #expect(abs(Double(before.components.seconds) + Double(before.components.attoseconds) / 1e18 - expected) < 0.01)
    }

    @Test func aClaimWithoutAReadableCreationTimeNeedsAReadNow() {
        let now = ContinuousClock.now
        #expect(KopiaIndexFreshness.requiredRead(created: nil, wallNow: Date(), monotonicNow: now) == now)
        #expect(KopiaIndexFreshness.requiredRead(created: "yesterday", wallNow: Date(), monotonicNow: now) == now)
    }

    @Test func aKopiaSnapshotIsLookedAtAgainSoonAfterAFailedWriteElseAtTheInterval() {
        #expect(KopiaSnapshotStatusReconciler.next(statusWriteFailed: false, recheckInterval: .seconds(15)) == .requeue(after: .seconds(15)))
        #expect(KopiaSnapshotStatusReconciler.next(statusWriteFailed: true, recheckInterval: .seconds(15)) == .requeue(after: .milliseconds(500)))
        #expect(KopiaSnapshotStatusReconciler.next(statusWriteFailed: true, recheckInterval: .milliseconds(100)) == .requeue(after: .milliseconds(100)))
    }

    @Test func theCacheKeepsTheSecretsKopiaSnapshotsName() {
        func ks(_ ns: String, _ secret: String?) -> KopiaSnapshot {
            var k = KopiaSnapshot(name: "k-\(ns)-\(secret ?? "none")", namespace: ns)
            k.spec.repository = secret
            return k
        }
        let used = KopiaSnapshotController.secretsInUse([ks("a", "kopia-config"), ks("a", "kopia-config"), ks("b", "other"), ks("c", nil), ks("d", "")])
        #expect(used == [.init(namespace: "a", name: "kopia-config"), .init(namespace: "b", name: "other")])
    }

    @Test func aRepositoryOnAPVCIsResolvedByThePopulatorOrNamesTheMissingPVC() throws {
        let location = try RepositoryLocation(parsing: "filesystem:///repository")
        var previous = KopiaSnapshotStatus()
        var reported = ResolvedSnapshot()
        reported.id = "abc"
        previous.snapshot = reported
        let ok = KopiaSnapshotConditions.resolvedByPopulator(pvc: "backups", namespace: "prod", pvcPhase: "Bound", requestedIdentity: "a@b:/data",
                                                             repository: location, generation: 3, now: "2026-12-05T10:00:00Z", previous: previous)
        #expect(ok.conditions.map(\.status) == ["Unknown"])
        #expect(ok.conditions.first?.reason == "ResolvedByPopulator")
        #expect(ok.conditions.first?.observedGeneration == 3 && ok.observedGeneration == 3)
        #expect((ok.conditions.first?.message ?? "").contains("prod/backups") && !(ok.conditions.first?.message ?? "").contains("Pending"))
        #expect(ok.snapshot?.id == "abc")  // what a populator reported stays
        #expect(ok.repository == "filesystem:///repository" && ok.requestedIdentity == "a@b:/data")
        let pending = KopiaSnapshotConditions.resolvedByPopulator(pvc: "backups", namespace: "prod", pvcPhase: "Pending", requestedIdentity: nil,
                                                                  repository: location, generation: 3, now: "2026-12-05T10:00:00Z", previous: previous)
        #expect((pending.conditions.first?.message ?? "").contains("it is Pending now"))
        let missing = KopiaSnapshotConditions.resolvedByPopulator(pvc: "backups", namespace: "prod", pvcPhase: nil, requestedIdentity: nil,
                                                                  repository: location, generation: 3, now: "2026-12-05T10:00:00Z", previous: previous)
        #expect(missing.conditions.map(\.status) == ["False"])
        #expect(missing.conditions.first?.reason == "RepositoryPVCNotFound")
        #expect(missing.snapshot == nil)
    }

    @Test func onlyAChangeBesidesLastCheckedIsWorthAWrite() {
        var a = KopiaSnapshotStatus()
        a.requestedIdentity = "x"
        a.lastChecked = "2026-12-05T10:00:00Z"
        var b = a
        b.lastChecked = "2026-12-05T10:05:00Z"
        #expect(!KopiaSnapshotConditions.differs(a, b))
        b.snapshotsFound = 2
        #expect(KopiaSnapshotConditions.differs(a, b))
    }

    // MARK: The cache, with a counting opener over the real repository

    static let http: HTTPClient = {
        do { return try HTTPClient(logger: Logger(label: "test")) } catch { fatalError("libcurl: \(error)") }
    }()

    final class Counter: Sendable {
        let opens = Mutex(0)
    }

    static func cache(policy: RepositoryCachePolicy, counter: Counter) -> RepositoryCache {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return RepositoryCache(refreshInterval: .seconds(60), policy: policy, httpClient: http, logger: logger) { credentials, logger in
            counter.opens.withLock { $0 += 1 }
            return try await KopiaRepository.open(location: credentials.location, password: credentials.password, logger: logger,
                                                  environment: credentials.environment, httpClient: KopiaSnapshotStatusTests.http)
        }
    }

    static func key(_ secret: String, version: String = "1") -> RepositoryCache.Key {
        RepositoryCache.Key(namespace: "prod", secret: secret, secretVersion: version, caDigest: 0)
    }

    static func credentials(password: String = Fixtures.password) throws -> RepositoryCredentials {
        RepositoryCredentials(location: try RepositoryLocation(parsing: "filesystem://" + Fixtures.kopia("fs-identities").path),
                              password: password, environment: [:])
    }

    @Test func aCachedRepositoryIsOpenedOnceAndOverTheBoundTheLeastRecentlyUsedCloses() async throws {
        let counter = Counter()
        let cache = Self.cache(policy: RepositoryCachePolicy(maxRepositories: 1), counter: counter)
        let c = try Self.credentials()
        _ = try await cache.repository(Self.key("a"), credentials: c)
        _ = try await cache.repository(Self.key("a"), credentials: c)
        #expect(counter.opens.withLock { $0 } == 1)
        _ = try await cache.repository(Self.key("b"), credentials: c)
        #expect(await cache.openSecrets == [.init(namespace: "prod", name: "b")])
        _ = try await cache.repository(Self.key("a"), credentials: c)
        #expect(counter.opens.withLock { $0 } == 3)
        let stats = await cache.statistics
        #expect(stats.open == 1 && stats.opens == 3 && stats.evictions == 2)
        await cache.retainOnly([])
        #expect(await cache.statistics.open == 0)
    }

    @Test func aWrongPasswordIsNotRetriedForTheSameSecretVersionButIsForANewOne() async throws {
        let counter = Counter()
        let cache = Self.cache(policy: RepositoryCachePolicy(), counter: counter)
        let wrong = try Self.credentials(password: "wrong")
        for _ in 0..<3 {
            await #expect(throws: (any Error).self) { _ = try await cache.repository(Self.key("a"), credentials: wrong) }
        }
        #expect(counter.opens.withLock { $0 } == 1)
        _ = try await cache.repository(Self.key("a", version: "2"), credentials: try Self.credentials())
        #expect(counter.opens.withLock { $0 } == 2)
    }
}

extension ISO8601DateFormatter {
    static func fractional(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: text) ?? ISO8601DateFormatter().date(from: text)
    }
}
