public import Logging
import Foundation

/// Lease-based leader election on a `coordination.k8s.io/v1` Lease (client-go's algorithm).
///
/// Contract: ``run(_:)`` retries acquiring every `retryPeriod` until it holds the lease, then runs the work while
/// renewing every `retryPeriod`. If no renewal succeeds for `renewDeadline`, leadership is lost: the work is
/// cancelled and `run` throws `.leaderElection`. Another candidate takes over only after the lease has not changed
/// for `leaseDuration` as observed on its own clock (no clock comparison across machines). When the calling task is
/// cancelled or the work returns, the lease is released (holder cleared, duration 1 s) so a successor starts at once.
///
/// Time and jitter come from the injected clock and random source: with FerryTestSupport's `ManualClock` a test
/// moves lease time forward without sleeping. Attempts to acquire wait `retryPeriod × (1 + jitterFactor × u)`
/// (client-go's `JitterUntil`, factor 1.2); renewals wait exactly `retryPeriod`.
public struct LeaderElector: Sendable {
    public struct Configuration: Sendable {
        public var leaseName: String
        public var leaseNamespace: String
        public var identity: String
        public var leaseDuration: Duration
        public var renewDeadline: Duration
        public var retryPeriod: Duration
        /// Extra random wait between attempts to acquire, as a share of `retryPeriod` (client-go: 1.2).
        public var jitterFactor: Double
        public init(leaseName: String, leaseNamespace: String, identity: String, leaseDuration: Duration = .seconds(15),
                    renewDeadline: Duration = .seconds(10), retryPeriod: Duration = .seconds(2), jitterFactor: Double = 1.2) {
            self.leaseName = leaseName
            self.leaseNamespace = leaseNamespace
            self.identity = identity
            self.leaseDuration = leaseDuration
            self.renewDeadline = renewDeadline
            self.retryPeriod = retryPeriod
            self.jitterFactor = jitterFactor
        }
    }

    let client: KubeClient
    let config: Configuration
    let clock: any FerryClock
    let random: any RandomSource
    let logger: Logger

    /// - Parameters:
    ///   - clock: lease time, renew deadlines and retry waits (default: the system clock).
    ///   - random: the jitter between attempts to acquire (default: the system generator).
    public init(client: KubeClient, configuration: Configuration, clock: any FerryClock = SystemClock(),
                random: any RandomSource = SystemRandomSource(), logger: Logger) {
        self.client = client
        self.config = configuration
        self.clock = clock
        self.random = random
        self.logger = logger
    }

    static func microTime(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: d)
    }

    /// Observations of the lease record on our own clock.
    final class Observer: @unchecked Sendable {  // @unchecked: used by one task at a time (the elector's loop)
        var record: LeaseSpec?
        var time: Duration
        init(time: Duration) { self.time = time }
    }

    /// One attempt; true when we hold the lease afterwards.
    func tryAcquireOrRenew(_ observer: Observer) async -> Bool {
        let seconds = Int(config.leaseDuration.clampedToConfigurationLimit.components.seconds)
        let now = Self.microTime(clock.wallNow())
        do {
            var lease = try await client.get(Lease.self, name: config.leaseName, namespace: config.leaseNamespace)
            let current = lease.spec
            if observer.record != current { observer.record = current; observer.time = clock.monotonicNow() }
            let holder = current.holderIdentity ?? ""
            let iHold = holder == config.identity
            if !holder.isEmpty, !iHold, observer.time + config.leaseDuration.clampedToConfigurationLimit > clock.monotonicNow() {
                return false
            }
            var spec = current
            spec.holderIdentity = config.identity
            spec.leaseDurationSeconds = seconds
            spec.renewTime = now
            if !iHold {
                spec.acquireTime = now
                spec.leaseTransitions = Self.transitions(after: current.leaseTransitions, previousHolder: holder)
            }
            lease.spec = spec
            let updated = try await client.update(lease)
            observer.record = updated.spec
            observer.time = clock.monotonicNow()
            return true
        } catch let e where e.code == .notFound {
            var lease = Lease(name: config.leaseName, namespace: config.leaseNamespace)
            lease.spec.holderIdentity = config.identity
            lease.spec.leaseDurationSeconds = seconds
            lease.spec.acquireTime = now
            lease.spec.renewTime = now
            lease.spec.leaseTransitions = 0
            do {
                let created = try await client.create(lease)
                observer.record = created.spec
                observer.time = clock.monotonicNow()
                return true
            } catch { return false }
        } catch {
            logger.debug("lease attempt failed", metadata: ["kube.lease": "\(config.leaseName)", "error": "\(error)"])
            return false
        }
    }

    /// Clears the holder if it is still us.
    func release() async {
        guard var lease = try? await client.get(Lease.self, name: config.leaseName, namespace: config.leaseNamespace),
              lease.spec.holderIdentity == config.identity else { return }
        let now = Self.microTime(clock.wallNow())
        lease.spec.holderIdentity = nil
        lease.spec.leaseDurationSeconds = 1
        lease.spec.renewTime = now
        lease.spec.acquireTime = now
        _ = try? await client.update(lease)
        logger.info("leadership released", metadata: ["kube.lease": "\(config.leaseName)"])
    }

    /// Campaigns, then runs `work` while leading. See the type's contract. Returns normally when the calling task
    /// is cancelled (graceful shutdown; the lease is released if held) or when `work` returns.
    /// - Throws: `.leaderElection` when leadership is lost; whatever `work` throws (other than on cancellation).
    public func run(_ work: @escaping @Sendable () async throws -> Void) async throws {
        do {
            try await campaignAndLead(work)
        } catch is CancellationError where Task.isCancelled {
            return
        }
    }

    private func campaignAndLead(_ work: @escaping @Sendable () async throws -> Void) async throws {
        let observer = Observer(time: clock.monotonicNow())
        while !(await tryAcquireOrRenew(observer)) {
            // throws CancellationError on shutdown
            try await clock.sleep(for: random.jittered(config.retryPeriod, factor: config.jitterFactor))
        }
        logger.info("leadership acquired", metadata: ["kube.lease": "\(config.leaseName)", "kube.identity": "\(config.identity)"])
        let lost: Bool = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask { try await work(); return false }
            group.addTask {
                var lastRenew = clock.monotonicNow()
                while !Task.isCancelled {
                    try await clock.sleep(for: config.retryPeriod)
                    if await tryAcquireOrRenew(observer) { lastRenew = clock.monotonicNow() }
                    else if clock.monotonicNow() - lastRenew >= config.renewDeadline { return true }
                }
                return false
            }
            defer { group.cancelAll() }
            do {
                let first = try await group.next() ?? false
                return first
            } catch {
                group.cancelAll()
                await release()
                throw error
            }
        }
        if lost {
            logger.info("leadership lost", metadata: ["kube.lease": "\(config.leaseName)"])
            throw KubeError(.leaderElection, "lost the lease \(config.leaseNamespace)/\(config.leaseName): no renewal within the renew deadline")
        }
        await release()
    }
}
