public import Kube

/// Client-side rate limit on the controllers' API calls (`--kube-api-qps`, `--kube-api-burst`), a token bucket as
/// client-go's: each call waits for a token. Watches and informer lists are not limited (as in client-go's
/// informers, which share the limit only for their list calls).
public final class RateLimitedKube: KubeVerbs, Sendable {
    actor Bucket {
        let rate: Double
        let burst: Double
        var tokens: Double
        var last = ContinuousClock.now
        init(rate: Double, burst: Int) {
            self.rate = max(rate, 0.001)
            self.burst = Double(max(burst, 1))
            self.tokens = Double(max(burst, 1))
        }
        /// Reserves a token and returns how long to wait for it.
        func reserve() -> Duration {
            let now = ContinuousClock.now
            let elapsed = now - last
            last = now
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            tokens = min(burst, tokens + seconds * rate)
            tokens -= 1
            return tokens >= 0 ? .zero : .nanoseconds(Int64(-tokens / rate * 1e9))
        }
    }

    let base: any KubeVerbs
    let bucket: Bucket

    public init(_ base: any KubeVerbs, qps: Double, burst: Int) {
        self.base = base
        self.bucket = Bucket(rate: qps, burst: burst)
    }

    func take() async {
        let wait = await bucket.reserve()
        if wait > .zero { try? await Task.sleep(for: wait) }
    }

    public func get<T: KubeResource>(_ type: T.Type, name: String, namespace: String?) async throws(KubeError) -> T {
        await take(); return try await base.get(type, name: name, namespace: namespace)
    }
    public func create<T: KubeResource>(_ object: T) async throws(KubeError) -> T {
        await take(); return try await base.create(object)
    }
    public func update<T: KubeResource>(_ object: T) async throws(KubeError) -> T {
        await take(); return try await base.update(object)
    }
    public func updateStatus<T: KubeResource>(_ object: T) async throws(KubeError) -> T {
        await take(); return try await base.updateStatus(object)
    }
    public func patch<T: KubeResource>(_ type: T.Type, name: String, namespace: String?, mergePatch: JSONValue) async throws(KubeError) -> T {
        await take(); return try await base.patch(type, name: name, namespace: namespace, mergePatch: mergePatch)
    }
    public func delete<T: KubeResource>(_ type: T.Type, name: String, namespace: String?) async throws(KubeError) {
        await take(); try await base.delete(type, name: name, namespace: namespace)
    }
}
