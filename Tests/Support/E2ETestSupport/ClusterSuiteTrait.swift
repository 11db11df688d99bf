public import Testing

/// Starts one cluster (or any stoppable harness) for a whole suite, runs the suite with it bound (a `@TaskLocal`
/// the suite reads), and stops it after — also when starting the suite's fixtures or a test throws.
///
///     extension Trait where Self == ClusterSuiteTrait<MyCluster> {
///         static var myCluster: Self { .init(start: { try await MyCluster() }, stop: { await $0.stop() }) { c, run in
///             try await MyCluster.$current.withValue(c) { try await run() } } }
///     }
public struct ClusterSuiteTrait<Harness: Sendable>: SuiteTrait, TestScoping {
    public typealias Body = @Sendable () async throws -> Void
    let start: @Sendable () async throws -> Harness
    let stop: @Sendable (Harness) async -> Void
    let bind: @Sendable (Harness, Body) async throws -> Void

    /// `bind` prepares the harness's fixtures (if any) and runs the suite with the harness bound.
    public init(start: @escaping @Sendable () async throws -> Harness, stop: @escaping @Sendable (Harness) async -> Void,
                bind: @escaping @Sendable (Harness, Body) async throws -> Void) {
        self.start = start
        self.stop = stop
        self.bind = bind
    }

    public var isRecursive: Bool { false }

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let harness = try await start()
        do {
            try await bind(harness, function)
        } catch {
            await stop(harness)
            throw error
        }
        await stop(harness)
    }
}
