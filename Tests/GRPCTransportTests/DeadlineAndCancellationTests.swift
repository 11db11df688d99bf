import GRPCTransport
import Testing

@Suite(.timeLimit(.minutes(3)))
struct DeadlineAndCancellationTests {
    @Test func expiredClientDeadlineGivesDeadlineExceededAndCancelsTheHandler() async throws {
        let observations = Observations()
        try await withServer(handlers: standardHandlers(observations)) { _, channel async throws in
            // Generous deadline: the handler must have started before it expires, even on a loaded machine.
            let error = await #expect(throws: RPCError.self) {
                try await channel.unary(method: Method.sleep, request: [], options: .init(timeout: .seconds(5)))
            }
            #expect(error?.code == .deadlineExceeded)
            await observations.wait(for: "cancelled")
            #expect(observations.events.contains("has-deadline"))
        }
    }

    @Test func handlerSeesNoDeadlineWhenClientSetsNone() async throws {
        let handlers: [String: UnaryHandler] = [
            "/t.S/D": { _, context in context.deadline == nil ? [0] : [1] }
        ]
        try await withServer(handlers: handlers) { _, channel async throws in
            #expect(try await channel.unary(method: "/t.S/D", request: []) == [0])
            #expect(try await channel.unary(method: "/t.S/D", request: [], options: .init(timeout: .seconds(30))) == [1])
        }
    }

    @Test func cancellingTheClientTaskCancelsTheServerHandler() async throws {
        let observations = Observations()
        try await withServer(handlers: standardHandlers(observations)) { _, channel async throws in
            let call = Task { try await channel.unary(method: Method.sleep, request: []) }
            await observations.wait(for: "started")
            call.cancel()
            let result = await call.result
            #expect(throws: RPCError(.cancelled, "")) { try result.get() }
            await observations.wait(for: "cancelled")
        }
    }

    @Test func alreadyCancelledTaskFailsWithoutCalling() async throws {
        let observations = Observations()
        try await withServer(handlers: standardHandlers(observations)) { _, channel async throws in
            let call = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await channel.unary(method: Method.sleep, request: [])
            }
            await #expect(throws: RPCError(.cancelled, "")) { try await call.value }
            #expect(!observations.events.contains("started"))
        }
    }
}
