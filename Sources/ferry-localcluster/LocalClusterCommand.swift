// ferry-localcluster: runs Ferry's local control plane (LocalCluster) in the foreground for tests and the demo.
// The interface scripts rely on is documented in README.md, "The local control plane".
import ArgumentParser
import Foundation
import LocalCluster
import Logging

@main
struct LocalClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ferry-localcluster",
        abstract: "Ferry's local Kubernetes control plane (API server and simulated cluster components).",
        subcommands: [Up.self])

    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start a local cluster in the foreground; prints `ready` once it serves; stops on SIGINT/SIGTERM.")

    @Option(help: "Directory for kubeconfig, csi.sock, volumes/ and logs/ (created if missing).")
    var dir: String

    @Option(help: "Number of simulated nodes.")
    var nodes: Int = 1

    @Option(name: .customLong("feature-gates"), help: "CrossNamespaceVolumeDataSource=true|false (may repeat).")
    var featureGates: [String] = []

    @Option(name: .customLong("image"), help: "NAME=PATH: run the local executable PATH for container image NAME (any tag).")
    var images: [String] = []

    @Option(name: .customLong("without-crd"), help: "Leave out one built-in CRD, by name (e.g. referencegrants.gateway.networking.k8s.io).")
    var withoutCRDs: [String] = []

    @Option(help: "API server port on 127.0.0.1 (0 picks a free one).")
    var port: Int = 0

    @Option(help: ArgumentHelp("RBAC: users outside system:masters (ServiceAccount tokens from `kubectl create token`) may do what the stored Roles and bindings allow; AlwaysAllow: anything. The kubeconfig's admin is in system:masters either way.",
                               valueName: "MODE"))
    var authorizationMode = "RBAC"

    func options() throws -> LocalClusterOptions {
        guard nodes >= 1 else { throw ValidationError("--nodes must be at least 1") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard ["RBAC", "AlwaysAllow"].contains(authorizationMode) else {
            throw ValidationError("--authorization-mode must be RBAC or AlwaysAllow")
        }
        var gate = false
        for spec in featureGates.flatMap({ $0.split(separator: ",") }) {
            let parts = spec.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let value = Bool(parts[1].lowercased()) else {
                throw ValidationError("--feature-gates: expected NAME=true|false, got \(spec)")
            }
            guard parts[0] == "CrossNamespaceVolumeDataSource" else {
                throw ValidationError("--feature-gates: unknown gate \(parts[0]) (known: CrossNamespaceVolumeDataSource)")
            }
            gate = value
        }
        var table: [String: String] = [:]
        for spec in images {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ValidationError("--image: expected NAME=PATH, got \(spec)")
            }
            table[parts[0]] = parts[1]
        }
        let known = Set(ClusterCRDs.names)
        for name in withoutCRDs where !known.contains(name) {
            throw ValidationError("--without-crd: unknown CRD \(name) (known: \(ClusterCRDs.names.joined(separator: ", ")))")
        }
        let url = URL(fileURLWithPath: dir, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        return LocalClusterOptions(directory: url.standardizedFileURL, nodes: nodes, crossNamespaceVolumeDataSource: gate,
                                   images: table, withoutCRDs: Set(withoutCRDs), port: port,
                                   storeDumpDirectory: ProcessInfo.processInfo.environment["FERRY_STORE_DUMP_DIR"]
                                       .flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) },
                                   authorizeWithRBAC: authorizationMode == "RBAC")
    }

    func run() async throws {
        let options = try options()
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: "ferry.localcluster")
        logger.logLevel = .info
        let signals = SignalWaiter([SIGINT, SIGTERM])
        let cluster = try await LocalClusterInstance.start(options: options, logger: logger)
        // FileHandle writes are unbuffered: a script reading our stdout through a pipe sees `ready` at once.
        FileHandle.standardOutput.write(Data("export KUBECONFIG=\(cluster.kubeconfigPath.path)\nready\n".utf8))
        let signal = await signals.wait()
        logger.info("stopping", metadata: ["signal": "\(signal)"])
        await cluster.stop()
    }
}

/// Turns SIGINT/SIGTERM into an awaitable value (the default handlers are replaced while it lives).
final class SignalWaiter: @unchecked Sendable {  // @unchecked: `sources` is written once in init, only kept alive
    private let sources: [any DispatchSourceSignal]
    private let stream: AsyncStream<Int32>

    init(_ signals: [Int32]) {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        self.stream = stream
        sources = signals.map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { continuation.yield(sig) }
            source.resume()
            return source
        }
    }

    func wait() async -> Int32 {
        for await sig in stream { return sig }
        return 0
    }
}
