import FerryTestSupport
import Foundation
import GRPCTransport
import Testing

/// A call is created under the channel's lock, but its batch used to be started after the lock was released. When
/// `stop()` ran in between, the batch was started on a completion queue that was already shut down, and gRPC core
/// aborted the process: `assertion failed: grpc_cq_begin_op(cq_, notify_tag)` (call.cc), found by the start/stop
/// storm. A call that loses that race now fails with CANCELLED, like any call the stop cut off.
struct ChannelStopRaceTests {
    static let rounds = 400

    @Test func stoppingAChannelWhileCallsAreStartingNeverStartsABatchOnItsShutDownQueue() async throws {
        let path = try temporarySocketPath()
        defer { removeSocketDirectory(path) }
        let server = try GRPCServer(configuration: .init(address: path, busyPoll: .zero),
                                    handlers: [Method.echo: { request, _ in request }], logger: testLogger)
        var completed = 0
        var refused = 0
        try await withHangWatchdog("stopping channels while calls start", timeout: .seconds(120)) {
            for round in 0..<Self.rounds {
                let channel = try GRPCChannel(target: path, configuration: .init(busyPoll: .zero), logger: testLogger)
                let callers = (0..<4).map { _ in
                    Task { () -> (Int, Int) in
                        var ok = 0
                        while true {
                            do {
                                _ = try await channel.unary(method: Method.echo, request: [1])
                                ok += 1
                            } catch let error as RPCError {
                                #expect(error.code == .cancelled || error.code == .unavailable, "\(error)")
                                return (ok, 1)
                            } catch {
                                Issue.record("unexpected \(error)")
                                return (ok, 0)
                            }
                        }
                    }
                }
                try await Task.sleep(for: .microseconds(200 + 97 * (round % 20)))
                await channel.stop()
                for caller in callers {
                    let (ok, failed) = await caller.value
                    completed += ok
                    refused += failed
                }
                #expect(channel.phase == .stopped)
            }
        }
        await server.shutdown(gracePeriod: .seconds(1))
        #expect(completed > 0)
        #expect(refused == 4 * Self.rounds)
    }
}
