import Foundation
import GRPCTransport
import Logging
import Synchronization
import Testing

/// A fresh socket path in its own temporary directory (short: Unix socket paths are limited to 107 bytes).
func temporarySocketPath() throws -> String {
    let dir = "/tmp/ferry-grpc-\(UInt64.random(in: 0...UInt64.max))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir + "/s.sock"
}

/// Removes the temporary directory of a socket path from ``temporarySocketPath()``.
func removeSocketDirectory(_ path: String) {
    try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
}

let testLogger = Logger(label: "ferry.test.grpc")

/// Runs `body` with a server on a fresh socket and a channel to it; shuts both down afterwards.
func withServer<R>(
    handlers: [String: UnaryHandler], server configure: (inout ServerConfiguration) -> Void = { _ in },
    channel channelConfiguration: ChannelConfiguration = .init(),
    _ body: (GRPCServer, GRPCChannel) async throws -> R
) async throws -> R {
    let path = try temporarySocketPath()
    var configuration = ServerConfiguration(address: "unix://" + path)
    configure(&configuration)
    let server = try GRPCServer(configuration: configuration, handlers: handlers, logger: testLogger)
    let channel = try GRPCChannel(target: path, configuration: channelConfiguration, logger: testLogger)
    do {
        let result = try await body(server, channel)
        channel.close()
        await server.shutdown(gracePeriod: .seconds(1))
        try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
        return result
    } catch {
        channel.close()
        await server.shutdown(gracePeriod: .seconds(1))
        try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
        throw error
    }
}

/// Records what server handlers observed, for assertions from the test task.
final class Observations: Sendable {
    private let state = Mutex<[String]>([])

    func record(_ event: String) { state.withLock { $0.append(event) } }

    var events: [String] { state.withLock { $0 } }

    /// Suspends until `event` has been recorded; gives up after 60 s so a broken build fails instead of hanging.
    @discardableResult
    func wait(for event: String) async -> Bool {
        for _ in 0..<6000 {
            if events.contains(event) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("\(event) was never observed")
        return false
    }
}

enum Method {
    static let echo = "/test.Echo/Echo"
    static let fail = "/test.Echo/Fail"
    static let sleep = "/test.Echo/Sleep"
}

/// Handlers shared by the suites: echo, fail with the status named in the request, sleep until cancelled.
func standardHandlers(_ observations: Observations = Observations()) -> [String: UnaryHandler] {
    [
        Method.echo: { request, _ in request },
        Method.fail: { request, _ in
            let code = Int32(request.first ?? 2)
            throw RPCError(RPCStatusCode(rawValue: code), "failure \(code) requested")
        },
        Method.sleep: { _, context in
            observations.record("started")
            if context.deadline != nil { observations.record("has-deadline") }
            do {
                try await Task.sleep(for: .seconds(60))
            } catch {
                observations.record("cancelled")
                throw error
            }
            return []
        },
    ]
}
