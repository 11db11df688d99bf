import Foundation
import GRPCTransport
import Testing

@Suite(.timeLimit(.minutes(3)))
struct ServerLifecycleTests {
    @Test func gracefulShutdownLetsInFlightCallsFinish() async throws {
        let observations = Observations()
        let handlers: [String: UnaryHandler] = [
            "/t.S/Slow": { request, _ in
                observations.record("started")
                try await Task.sleep(for: .milliseconds(300))
                return request
            }
        ]
        let path = try temporarySocketPath()
        defer { removeSocketDirectory(path) }
        let server = try GRPCServer(configuration: .init(address: path), handlers: handlers, logger: testLogger)
        let channel = try GRPCChannel(target: path, logger: testLogger)
        defer { channel.close() }
        let call = Task { try await channel.unary(method: "/t.S/Slow", request: [9]) }
        await observations.wait(for: "started")
        await server.shutdown(gracePeriod: .seconds(30))
        #expect(try await call.value == [9])
        #expect(server.inFlightCalls == 0)
        #expect(!FileManager.default.fileExists(atPath: path))
        let error = await #expect(throws: RPCError.self) {
            try await channel.unary(method: "/t.S/Slow", request: [])
        }
        #expect(error?.code == .unavailable)
    }

    @Test func shutdownPastGracePeriodCancelsHandlers() async throws {
        let observations = Observations()
        let path = try temporarySocketPath()
        defer { removeSocketDirectory(path) }
        let server = try GRPCServer(
            configuration: .init(address: path), handlers: standardHandlers(observations), logger: testLogger)
        let channel = try GRPCChannel(target: path, logger: testLogger)
        defer { channel.close() }
        let call = Task { try await channel.unary(method: Method.sleep, request: []) }
        await observations.wait(for: "started")
        await server.shutdown(gracePeriod: .milliseconds(50))
        #expect(observations.events.contains("cancelled"))
        #expect(server.inFlightCalls == 0)
        await #expect(throws: RPCError.self) { try await call.value }
    }

    @Test func clientReconnectsWhenTheServerRestarts() async throws {
        let path = try temporarySocketPath()
        defer { removeSocketDirectory(path) }
        let channel = try GRPCChannel(target: path, logger: testLogger)
        defer { channel.close() }
        let first = try GRPCServer(
            configuration: .init(address: path), handlers: ["/t.S/Who": { _, _ in [1] }], logger: testLogger)
        #expect(try await channel.unary(method: "/t.S/Who", request: []) == [1])
        await first.shutdown()

        let down = await #expect(throws: RPCError.self) { try await channel.unary(method: "/t.S/Who", request: []) }
        #expect(down?.code == .unavailable)

        let second = try GRPCServer(
            configuration: .init(address: path), handlers: ["/t.S/Who": { _, _ in [2] }], logger: testLogger)
        let response = try await channel.unary(
            method: "/t.S/Who", request: [], options: .init(timeout: .seconds(20), waitForReady: true))
        #expect(response == [2])
        await second.shutdown()
    }

    @Test func waitForReadyRidesOutAServerThatStartsLate() async throws {
        let path = try temporarySocketPath()
        defer { removeSocketDirectory(path) }
        let channel = try GRPCChannel(target: path, logger: testLogger)
        defer { channel.close() }
        let call = Task {
            try await channel.unary(method: "/t.S/Who", request: [], options: .init(timeout: .seconds(20), waitForReady: true))
        }
        try await Task.sleep(for: .milliseconds(200))
        let server = try GRPCServer(
            configuration: .init(address: path), handlers: ["/t.S/Who": { _, _ in [3] }], logger: testLogger)
        #expect(try await call.value == [3])
        await server.shutdown()
    }

    @Test(arguments: [
        ("unix:///csi/csi.sock", "unix:///csi/csi.sock"),
        ("unix:/csi/csi.sock", "unix:///csi/csi.sock"),
        ("/csi/csi.sock", "unix:///csi/csi.sock"),
    ])
    func endpointsNormaliseToUnixTargets(input: String, expected: String) throws {
        #expect(try normalizedUnixAddress(input) == expected)
    }

    @Test(arguments: ["", "csi.sock", "localhost:50051", "unix://", "dns:///x"])
    func unusableEndpointsAreRejected(input: String) {
        #expect(throws: GRPCTransportError(.invalidAddress, "", address: "")) { try normalizedUnixAddress(input) }
    }
}
