import CurlHTTP
import FerryCore
import Foundation
import HTTPTestSupport
import Logging
import Testing

@Suite(.timeLimit(.minutes(1)))
struct ClientLifecycleTests {
    /// Threads of this process whose name is `name`. Other suites run HTTP clients in parallel in the same
    /// process, so a test counts only the threads it named itself.
    static func threads(named name: String) -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.filter {
            let comm = (try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8)) ?? ""
            return comm.trimmingCharacters(in: .newlines) == name
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
        // A name no other client in the process has (15 bytes at most: the kernel truncates longer ones).
        let name = "fc-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        var configuration = HTTPClientConfiguration()
        configuration.threadName = name
        let clients = try (0..<4).map { _ in try HTTPClient(configuration: configuration, logger: Logger(label: "t")) }
        var running = Self.threads(named: name)
        for _ in 0..<200 where running < 4 { try await Task.sleep(for: .milliseconds(10)); running = Self.threads(named: name) }
        #expect(running == 4)
        for c in clients { await c.stop() }
        // stop() returns once the loop has left; the detached thread ends right after. Give the kernel a moment.
        var after = Self.threads(named: name)
        for _ in 0..<200 where after > 0 { try await Task.sleep(for: .milliseconds(10)); after = Self.threads(named: name) }
        #expect(after == 0)
    }
}
