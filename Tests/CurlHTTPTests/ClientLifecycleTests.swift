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

    @Test func stopClosesTheCachedConnectionsBeforeItReturns() async throws {
        let certs = try TestCertificates.shared()
        let server = try TestHTTPSServer(certificates: certs, requestClientCertificates: false) { _, res in
            res.respond(status: 200, body: Array("ok".utf8))
        }
        defer { server.stop() }
        let client = try HTTPClient(configuration: HTTPClientConfiguration(tls: TLSOptions(certificateAuthority: .file(certs.caCertificate))),
                                    logger: Logger(label: "t"))
        #expect(try await client.execute(HTTPRequest(url: server.baseURL + "/")).status == 200)
        #expect(server.openConnections == 1)  // kept alive in the client's connection cache
        await client.stop()
        // The client object lives on: its connections must have been closed by stop itself, not by a later deinit.
        // The server sees the close on its next read.
        var open = server.openConnections
        for _ in 0..<200 where open > 0 { try await Task.sleep(for: .milliseconds(10)); open = server.openConnections }
        #expect(open == 0)
        #expect(client.phase == .stopped)  // keeps the client alive until here
    }

    @Test func serverStopReturnsAfterEveryThreadOfItEnded() async throws {
        let certs = try TestCertificates.shared()
        let server = try TestHTTPSServer(certificates: certs, requestClientCertificates: false) { _, res in
            res.respond(status: 200, body: Array("ok".utf8))
        }
        let client = try HTTPClient(configuration: HTTPClientConfiguration(tls: TLSOptions(certificateAuthority: .file(certs.caCertificate))),
                                    logger: Logger(label: "t"))
        // One connection kept alive by the client, one that connected and never started its TLS handshake.
        #expect(try await client.execute(HTTPRequest(url: server.baseURL + "/")).status == 200)
        let silent = try RawTCPConnection(port: server.port)
        defer { silent.close() }
        var accepted = server.acceptedConnections
        for _ in 0..<200 where accepted < 2 { try await Task.sleep(for: .milliseconds(10)); accepted = server.acceptedConnections }
        #expect(accepted == 2)
        #expect(server.liveThreads == 3)
        let start = ContinuousClock.now
        server.stop()
        #expect(server.liveThreads == 0)
        #expect(ContinuousClock.now - start < .seconds(4))
        await client.stop()
    }
}

/// A plain TCP connection to 127.0.0.1 that sends nothing.
struct RawTCPConnection {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestServerError("socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { Glibc.close(fd); throw TestServerError("connect failed") }
    }

    func close() { Glibc.close(fd) }
}
