import GRPCTransport
import Testing

@Suite(.timeLimit(.minutes(3)))
struct MessageLimitTests {
    static let limit = 256 * 1024

    @Test(arguments: [limit - 64, limit + 1])
    func serverReceiveLimitRejectsLargerRequests(size: Int) async throws {
        try await withServer(handlers: standardHandlers(), server: { $0.maxReceiveMessageBytes = Self.limit }) { _, channel async throws in
            let request = [UInt8](repeating: 0x5A, count: size)
            if size <= Self.limit {
                #expect(try await channel.unary(method: Method.echo, request: request).count == size)
            } else {
                let error = await #expect(throws: RPCError.self) {
                    try await channel.unary(method: Method.echo, request: request)
                }
                #expect(error?.code == .resourceExhausted)
                // The server keeps serving.
                #expect(try await channel.unary(method: Method.echo, request: [1]) == [1])
            }
        }
    }

    @Test func clientReceiveLimitRejectsLargerResponses() async throws {
        let handlers: [String: UnaryHandler] = ["/t.S/Big": { _, _ in [UInt8](repeating: 1, count: 300_000) }]
        try await withServer(
            handlers: handlers, channel: .init(maxReceiveMessageBytes: Self.limit)
        ) { _, channel async throws in
            let error = await #expect(throws: RPCError.self) { try await channel.unary(method: "/t.S/Big", request: []) }
            #expect(error?.code == .resourceExhausted)
        }
    }

    @Test func defaultLimitAcceptsAMessageJustUnderFourMiB() async throws {
        try await withServer(handlers: standardHandlers()) { _, channel async throws in
            let request = [UInt8](repeating: 7, count: 4 * 1024 * 1024 - 64)
            #expect(try await channel.unary(method: Method.echo, request: request) == request)
        }
    }
}
