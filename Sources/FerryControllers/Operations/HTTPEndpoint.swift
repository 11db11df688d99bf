import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A small plain-HTTP/1.1 server for `/metrics`, `/healthz` and `/readyz` (`--http-endpoint`): one dedicated
/// thread accepts and answers one request per connection (`Connection: close`). GET and HEAD only; requests
/// larger than 8 KiB or slower than 2 s are dropped. Not a general web server, and never on the cooperative pool.
///
/// Lifecycle: ``init(address:handler:)`` binds (so a bad address fails at startup); ``run()`` serves until its task
/// is cancelled, then closes the socket and returns once the thread has exited.
public final class HTTPEndpoint: Sendable {
    /// Answers a path: status, content type, body. Called on the endpoint's thread; must not block for long.
    public typealias Handler = @Sendable (_ path: String) -> (status: Int, contentType: String, body: String)

    private let fd: Int32
    private let handler: Handler
    /// The bound port (useful with port 0).
    public let port: Int
    private let closed = Mutex(false)

    /// - Parameter address: `host:port`, `:port` (all interfaces) or `port`.
    public init(address: String, handler: @escaping Handler) throws(HTTPEndpointError) {
        self.handler = handler
        let (host, portText) = Self.split(address)
        guard let p = UInt16(portText) else { throw HTTPEndpointError("invalid --http-endpoint \(address): expected host:port") }
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard s >= 0 else { throw HTTPEndpointError("socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = p.bigEndian
        let hostName = host.isEmpty ? "0.0.0.0" : (host == "localhost" ? "127.0.0.1" : host)
        guard inet_pton(AF_INET, hostName, &addr.sin_addr) == 1 else {
            close(s)
            throw HTTPEndpointError("invalid --http-endpoint host \(host): an IPv4 address is required")
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(s, 64) == 0 else {
            let message = String(cString: strerror(errno))
            close(s)
            throw HTTPEndpointError("cannot listen on \(address): \(message)")
        }
        var actual = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) } }
        port = Int(UInt16(bigEndian: actual.sin_port))
        fd = s
    }

    deinit { shutdownSocket() }

    static func split(_ address: String) -> (String, String) {
        guard let colon = address.lastIndex(of: ":") else { return ("", address) }
        return (String(address[..<colon]), String(address[address.index(after: colon)...]))
    }

    private func shutdownSocket() {
        let first = closed.withLock { c -> Bool in defer { c = true }; return !c }
        if first { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
    }

    /// Serves until the calling task is cancelled.
    public func run() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                let thread = Thread { [self] in
                    serve()
                    done.resume()
                }
                thread.name = "ferry-http"
                thread.start()
            }
        } onCancel: {
            shutdownSocket()
        }
    }

    private func serve() {
        while !closed.withLock({ $0 }) {
            let client = accept(fd, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            answer(client)
            close(client)
        }
    }

    private func answer(_ client: Int32) {
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 2048)
        while request.count < 8192 {
            let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            request += buffer[0..<n]
            if request.count >= 4, request.suffix(4) == [13, 10, 13, 10] { break }
            if let text = String(bytes: request, encoding: .utf8), text.contains("\r\n\r\n") { break }
        }
        let line = String(decoding: request.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        let parts = line.split(separator: " ")
        let (status, type, body): (Int, String, String)
        if parts.count >= 2, parts[0] == "GET" || parts[0] == "HEAD" {
            let path = String(parts[1].split(separator: "?", maxSplits: 1).first ?? "")
            (status, type, body) = handler(path)
        } else {
            (status, type, body) = (405, "text/plain", "method not allowed\n")
        }
        let reason = [200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"][status] ?? "Status"
        let payload = Array(body.utf8)
        var head = "HTTP/1.1 \(status) \(reason)\r\nContent-Type: \(type)\r\nContent-Length: \(payload.count)\r\nConnection: close\r\n\r\n"
        if parts.first == "HEAD" { head += "" }
        var out = Array(head.utf8)
        if parts.first != "HEAD" { out += payload }
        var sent = 0
        while sent < out.count {
            let n = out[sent...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }
}

public struct HTTPEndpointError: Error, Sendable, CustomStringConvertible {
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}
