import Foundation
import GRPCTransport
import Testing

@Suite(.timeLimit(.minutes(3)))
struct UnaryCallTests {
    @Test(arguments: [0, 1, 22, 23, 24, 1000, 65_536, 1_000_000])
    func echoReturnsTheRequestBytes(size: Int) async throws {
        let request = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try await withServer(handlers: standardHandlers()) { _, channel async throws in
            let response = try await channel.unary(method: Method.echo, request: request)
            #expect(response == request)
        }
    }

    @Test(arguments: [RPCStatusCode.notFound, .invalidArgument, .alreadyExists, .resourceExhausted, .internal,
                      .failedPrecondition, .aborted, .unavailable])
    func handlerStatusAndDetailsReachTheClient(code: RPCStatusCode) async throws {
        try await withServer(handlers: standardHandlers()) { _, channel async throws in
            let error = await #expect(throws: RPCError.self) {
                try await channel.unary(method: Method.fail, request: [UInt8(code.rawValue)])
            }
            #expect(error?.code == code)
            #expect(error?.message == "failure \(code.rawValue) requested")
            #expect(error?.method == Method.fail)
        }
    }

    @Test func unknownMethodGetsUnimplementedAndServerKeepsServing() async throws {
        try await withServer(handlers: standardHandlers()) { _, channel async throws in
            let error = await #expect(throws: RPCError.self) {
                try await channel.unary(method: "/test.Echo/Nope", request: [1])
            }
            #expect(error?.code == .unimplemented)
            #expect(try await channel.unary(method: Method.echo, request: [7]) == [7])
        }
    }

    @Test func nonRPCErrorFromHandlerMapsToUnknown() async throws {
        struct Boom: Error, CustomStringConvertible { var description: String { "boom" } }
        let handlers: [String: UnaryHandler] = ["/t.S/Boom": { _, _ in throw Boom() }]
        try await withServer(handlers: handlers) { _, channel async throws in
            let error = await #expect(throws: RPCError.self) {
                try await channel.unary(method: "/t.S/Boom", request: [])
            }
            #expect(error?.code == .unknown)
            #expect(error?.message == "boom")
        }
    }

    @Test func manyConcurrentCallsShareOneChannel() async throws {
        try await withServer(handlers: standardHandlers()) { _, channel async throws in
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let request = Array("call-\(index)".utf8)
                        return try await channel.unary(method: Method.echo, request: request) == request
                    }
                }
                var matched = 0
                for try await ok in group where ok { matched += 1 }
                #expect(matched == 200)
            }
        }
    }

    @Test func callWithoutServerFailsUnavailable() async throws {
        let path = try temporarySocketPath()
        defer { removeSocketDirectory(path) }
        let channel = try GRPCChannel(target: path, logger: testLogger)
        defer { channel.close() }
        let error = await #expect(throws: RPCError.self) {
            try await channel.unary(method: Method.echo, request: [], options: .init(timeout: .seconds(5)))
        }
        #expect(error?.code == .unavailable)
    }

    @Test func serverCannotBindInMissingDirectory() async throws {
        #expect(throws: GRPCTransportError(.bindFailed, "", address: "")) {
            _ = try GRPCServer(
                configuration: .init(address: "unix:///nonexistent-ferry-dir/x/s.sock"), handlers: [:],
                logger: testLogger)
        }
    }
}
