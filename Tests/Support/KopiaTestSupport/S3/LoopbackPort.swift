#if canImport(Glibc)
import Glibc
#endif
public import Foundation

/// Loopback TCP helpers for test servers: pick a free port, wait until something listens.
public enum LoopbackPort {
    /// A port that was free a moment ago (bind to port 0, read it back, close). Another process may take it
    /// before the caller binds it; test servers are started once per port and fail loudly if that happens.
    public static func free() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestServerError("socket() failed: errno \(errno)") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw TestServerError("bind() failed: errno \(errno)") }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Whether a TCP connect to 127.0.0.1:`port` succeeds now.
    public static func isListening(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    /// Polls until `port` accepts connections or `timeout` passes.
    public static func waitUntilListening(_ port: Int, timeout: Duration, process: Process? = nil) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if isListening(port) { return }
            if let process, !process.isRunning {
                throw TestServerError("server process exited with status \(process.terminationStatus) before listening on \(port)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestServerError("nothing listened on 127.0.0.1:\(port) within \(timeout)")
    }
}

/// A failure of test infrastructure (not of the code under test).
public struct TestServerError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
