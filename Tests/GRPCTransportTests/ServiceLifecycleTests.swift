import FerryCore
import Foundation
import GRPCTransport
import Testing

/// GRPCServer and GRPCChannel as services: run() returns after cancellation with everything released.
@Suite(.timeLimit(.minutes(2)))
struct ServiceLifecycleTests {
    static let handlers: [String: UnaryHandler] = [
        "/t.S/Echo": { request, _ in request },
        "/t.S/Hang": { _, _ in try await Task.sleep(for: .seconds(600)); return [] },
    ]

    @Test func serverAndChannelRunUntilCancelledThenStopCompletely() async throws {
        let path = try temporarySocketPath()
        defer { removeSocketDirectory(path) }
        let server = try GRPCServer(configuration: .init(address: path), handlers: Self.handlers, logger: testLogger)
        let channel = try GRPCChannel(target: path, logger: testLogger)
        let services = Task { try await runServices([server, channel]) }
        #expect(try await channel.unary(method: "/t.S/Echo", request: [7]) == [7])
        let hanging = Task { try await channel.unary(method: "/t.S/Hang", request: []) }
        try await Task.sleep(for: .milliseconds(50))
        services.cancel()
        try await services.value
        #expect(server.phase == .stopped)
        #expect(channel.phase == .stopped)
        #expect(!FileManager.default.fileExists(atPath: path))
        await #expect(throws: RPCError.self) { try await hanging.value }
        let after = await #expect(throws: RPCError.self) { try await channel.unary(method: "/t.S/Echo", request: [1]) }
        #expect(after?.code == .unavailable)
        await #expect(throws: LifecycleError.self) { try await server.run() }
        await #expect(throws: LifecycleError.self) { try await channel.run() }
    }

    @Test func stoppingAChannelCancelsACallWaitingForAServerThatNeverComes() async throws {
        let path = try temporarySocketPath()
        defer { removeSocketDirectory(path) }
        let channel = try GRPCChannel(target: path, logger: testLogger)
        // waitForReady without a timeout: before stop() existed, close() waited for this call forever.
        let waiting = Task { try await channel.unary(method: "/t.S/Echo", request: [], options: .init(waitForReady: true)) }
        try await Task.sleep(for: .milliseconds(100))
        await channel.stop()
        let error = await #expect(throws: RPCError.self) { try await waiting.value }
        #expect(error?.code == .cancelled)
        #expect(channel.phase == .stopped)
        await channel.stop()  // idempotent
    }

    @Test func concurrentShutdownsAllReturnOnlyOnceTheServerHasStopped() async throws {
        let path = try temporarySocketPath()
        defer { removeSocketDirectory(path) }
        let server = try GRPCServer(configuration: .init(address: path), handlers: Self.handlers, logger: testLogger)
        await withTaskGroup(of: LifecyclePhase.self) { group in
            for _ in 0..<4 { group.addTask { await server.shutdown(gracePeriod: .milliseconds(10)); return server.phase } }
            for await phase in group { #expect(phase == .stopped) }
        }
    }

    @Test func handlersRunOffTheQueueThreadByDefault() {
        #expect(!ServerConfiguration(address: "unix:///tmp/x.sock").startsHandlersOnQueueThread)
    }
}
