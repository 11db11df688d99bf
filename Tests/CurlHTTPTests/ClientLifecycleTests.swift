import CurlHTTP
import FerryCore
import Foundation
import HTTPTestSupport
import Logging
import Testing

@Suite(.timeLimit(.minutes(1)))
struct ClientLifecycleTests {
    static func curlThreads() -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.filter {
            ((try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8)) ?? "").hasPrefix("ferry-curl")
        }.count
    }

    @Test func runReturnsAfterCancellationWithTheThreadFinished() async throws {
        let s = try EchoServer()
        let client = try s.client()
        let service = Task { try await client.run() }
        #expect(try await client.execute(HTTPRequest(url: s.url + "/echo")).status == 200)
        let slow = Task { try await client.execute(HTTPRequest(url: s.url + "/slow?ms=5000")) }
        try await Task.sleep(for: .milliseconds(50))
        service.cancel()
        try await service.value
        #expect(client.phase == .stopped)
        let error = await #expect(throws: HTTPError.self) { try await slow.value }
        #expect(error?.code == .shutdown)
        await #expect(throws: LifecycleError.self) { try await client.run() }
    }

    @Test func stopWaitsForTheLoopThread() async throws {
        let before = Self.curlThreads()
        let clients = try (0..<4).map { _ in try HTTPClient(logger: Logger(label: "t")) }
        #expect(Self.curlThreads() >= before)  // threads may still be starting
        for c in clients { await c.stop() }
        // The loop has left; its thread ends right after. Give the kernel a moment to reap it.
        var after = Self.curlThreads()
        for _ in 0..<100 where after > before { try await Task.sleep(for: .milliseconds(10)); after = Self.curlThreads() }
        #expect(after <= before)
    }
}
