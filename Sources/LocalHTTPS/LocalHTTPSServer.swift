import Foundation
internal import CLocalTLS

func cString(_ a: [CChar]) -> String {
    String(decoding: a.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// One parsed HTTP/1.1 request.
public struct LocalHTTPRequest: Sendable {
    public var method: String
    /// Path and query as sent.
    public var target: String
    public var path: String
    /// Decoded query items in order.
    public var query: [(name: String, value: String)]
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// CN and organisations of a verified client certificate.
    public var clientCommonName: String?
    public var clientOrganizations: [String]

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
    public func queryValue(_ name: String) -> String? { query.first { $0.name == name }?.value }
}

/// Writes the response of one request. Exactly one of `respond`, `stream…` or `dropConnection` per request.
public final class LocalHTTPResponder: @unchecked Sendable {  // @unchecked: used only by the connection's thread
    fileprivate let conn: OpaquePointer
    fileprivate var closeAfter = false
    fileprivate var responded = false

    fileprivate init(conn: OpaquePointer) { self.conn = conn }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"; case 201: "Created"; case 202: "Accepted"; case 400: "Bad Request"; case 401: "Unauthorized"
        case 403: "Forbidden"; case 404: "Not Found"; case 405: "Method Not Allowed"; case 409: "Conflict"
        case 410: "Gone"; case 415: "Unsupported Media Type"; case 422: "Unprocessable Entity"
        case 429: "Too Many Requests"; case 500: "Internal Server Error"; default: "Status"
        }
    }

    private func head(_ status: Int, _ headers: [(String, String)], extra: String) -> [UInt8] {
        var s = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        for (n, v) in headers { s += "\(n): \(v)\r\n" }
        s += extra + "\r\n"
        return Array(s.utf8)
    }

    @discardableResult
    private func write(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { ctls_write_all(conn, $0.baseAddress, $0.count) == 0 }
    }

    /// Sends a complete response with `Content-Length`.
    public func respond(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        responded = true
        write(head(status, headers, extra: "Content-Length: \(body.count)\r\n") + body)
    }

    /// Starts a chunked response; follow with `writeChunk` and `endStream`.
    @discardableResult
    public func startStream(status: Int, headers: [(String, String)] = []) -> Bool {
        responded = true
        return write(head(status, headers, extra: "Transfer-Encoding: chunked\r\n"))
    }

    /// Writes one chunk; false once the client is gone.
    @discardableResult
    public func writeChunk(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty else { return true }
        return write(Array(String(bytes.count, radix: 16).utf8) + [13, 10] + bytes + [13, 10])
    }

    public func endStream() { write(Array("0\r\n\r\n".utf8)) }

    /// Closes the connection without any response (a reset as the client sees it).
    public func dropConnection() { responded = true; closeAfter = true }
}

/// A real HTTPS/1.1 server on 127.0.0.1 (the local control plane's API server and test peers stand on it): thread per
/// connection, keep-alive, `Content-Length` request bodies, fixed or chunked responses, optional client certificates
/// (verified against the CA of its `LocalCertificates`).
///
/// Not for untrusted networks: it binds loopback only, holds each request in memory and keeps one thread per
/// connection.
public final class LocalHTTPSServer: @unchecked Sendable {  // @unchecked: mutable state in LockedBox
    public typealias Handler = @Sendable (LocalHTTPRequest, LocalHTTPResponder) -> Void

    public let port: Int
    public var baseURL: String { "https://127.0.0.1:\(port)" }
    private let tls: OpaquePointer
    private let listenFD: Int32
    private let handler: Handler
    private let state = LockedBox<(accepted: Int, open: [Int: OpaquePointer], handshaking: Set<Int32>, stopped: Bool)>(
        (0, [:], [], false))
    /// The server's live threads (accept loop and connections), so that ``stop()`` can wait for them.
    private let threads = ServerThreads()

    /// Number of TCP connections accepted so far.
    public var acceptedConnections: Int { state.withLock { $0.accepted } }
    /// Connections past their TLS handshake and not yet closed.
    public var openConnections: Int { state.withLock { $0.open.count } }
    /// The server's threads still running (accept loop and connections); 0 once ``stop(timeout:)`` has returned,
    /// unless a handler outlived the timeout.
    public var liveThreads: Int { threads.count }

    /// Starts listening on 127.0.0.1:`port` (0 picks a free port) and serving on background threads.
    /// - Throws: `LocalServerError` when the TLS material cannot be loaded or the port cannot be bound.
    public init(certificates: LocalCertificates, requestClientCertificates: Bool = true, port: Int = 0,
                handler: @escaping Handler) throws {
        var err = [CChar](repeating: 0, count: 512)
        guard let tls = ctls_server_new(certificates.serverCertificate, certificates.serverKey,
                                        requestClientCertificates ? certificates.caCertificate : nil, &err, 512) else {
            throw LocalServerError(cString(err))
        }
        var bound: Int32 = 0
        let fd = ctls_listen(Int32(clamping: port), &bound)
        guard fd >= 0 else { ctls_server_free(tls); throw LocalServerError("cannot listen on 127.0.0.1:\(port)") }
        self.tls = tls
        self.listenFD = fd
        self.port = Int(bound)
        self.handler = handler
        threads.started()
        let t = Thread { [self] in
            threads.running { self.acceptLoop() }
        }
        t.name = "local-https-accept"
        t.start()
    }

    /// Stops accepting, interrupts every open connection and handshake, and waits (up to `timeout`) until every
    /// thread of the server has finished — so nothing of it, TLS included, still runs once the caller goes on (a
    /// test process exiting right after runs OpenSSL's exit handler). Handlers that keep a connection busy without
    /// writing (a watch) must end on their own; the API server's do within 50 ms. Idempotent; called from one of
    /// the server's own threads, it waits for the others only.
    public func stop(timeout: Duration = .seconds(5)) {
        // Interrupt under the lock: a connection leaves `open`/`handshaking` (under the lock) before its fd is
        // closed, so an fd number is never shut down after it was reused elsewhere.
        let first = state.withLock { s -> Bool in
            if s.stopped { return false }
            s.stopped = true
            for c in s.open.values { ctls_interrupt(c) }
            for fd in s.handshaking { ctls_shutdown_fd(fd) }
            return true
        }
        if first { ctls_shutdown_fd(listenFD) }
        threads.waitUntilFinished(timeout: timeout)
    }

    /// Interrupts every open connection (clients see a reset) but keeps accepting.
    public func dropAllConnections() {
        state.withLock { s in for c in s.open.values { ctls_interrupt(c) } }
    }

    /// Every thread of the server holds it (`[self]`), so this runs only after the accept thread and every connection
    /// thread have finished: nothing uses the TLS context any more.
    deinit {
        stop()
        ctls_server_free(tls)
    }

    private func acceptLoop() {
        ctls_name_current_thread("local-https-acc")  // Thread.name does not reach /proc on Linux
        while true {
            let fd = ctls_accept(listenFD)
            if fd < 0 { break }  // shut down by stop(); the fd is closed below, after `stopped` was set
            if state.withLock({ $0.stopped }) { ctls_close_fd(fd); break }
            state.withLock { $0.accepted += 1 }
            threads.started()
            let t = Thread { [self] in
                threads.running { self.serve(fd) }
            }
            t.name = "local-https-conn"
            t.start()
        }
        ctls_close_fd(listenFD)
    }

    private func serve(_ fd: Int32) {
        ctls_name_current_thread("local-https-con")
        var err = [CChar](repeating: 0, count: 256)
        guard state.withLock({ s -> Bool in
            if !s.stopped { s.handshaking.insert(fd) }
            return !s.stopped
        }) else { ctls_close_fd(fd); return }
        let conn = ctls_handshake(tls, fd, &err, 256)
        let id = conn.map { Int(bitPattern: $0) } ?? 0
        state.withLock { s in
            s.handshaking.remove(fd)
            if let conn { s.open[id] = conn }
            // Stopped during the handshake: this connection missed the interrupt.
            if let conn, s.stopped { ctls_interrupt(conn) }
        }
        guard let conn else { ctls_close_fd(fd); return }  // a failed handshake only closes the socket
        defer {
            state.withLock { _ = $0.open.removeValue(forKey: id) }
            ctls_close(conn)
        }
        var cn = [CChar](repeating: 0, count: 256)
        var org = [CChar](repeating: 0, count: 512)
        let hasPeer = ctls_peer_names(conn, &cn, 256, &org, 512) == 1
        let commonName = hasPeer ? cString(cn) : nil
        let orgs = hasPeer ? cString(org).split(separator: ",").map(String.init) : []
        var reader = ConnectionReader(conn: conn)
        while true {
            guard var request = reader.readRequest() else { return }
            request.clientCommonName = commonName
            request.clientOrganizations = orgs
            let responder = LocalHTTPResponder(conn: conn)
            handler(request, responder)
            if !responder.responded { responder.respond(status: 500, body: Array("handler did not respond".utf8)) }
            if responder.closeAfter || request.header("Connection")?.lowercased() == "close" { return }
        }
    }
}

/// Reads HTTP/1.1 requests from a TLS connection.
private struct ConnectionReader {
    let conn: OpaquePointer
    var buffer: [UInt8] = []

    mutating func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16384)
        let n = chunk.withUnsafeMutableBytes { ctls_read(conn, $0.baseAddress, $0.count) }
        guard n > 0 else { return false }
        buffer += chunk[0..<n]
        return true
    }

    mutating func readRequest() -> LocalHTTPRequest? {
        let sep: [UInt8] = [13, 10, 13, 10]
        var headEnd: Int?
        while headEnd == nil {
            if buffer.count >= 4 {
                for i in 0...(buffer.count - 4) where buffer[i..<i + 4].elementsEqual(sep) { headEnd = i; break }
            }
            if headEnd == nil, !fill() { return nil }
        }
        guard let end = headEnd else { return nil }
        let head = String(decoding: buffer[0..<end], as: UTF8.self)
        buffer.removeFirst(end + 4)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        let length = Int(headers.first { $0.name.lowercased() == "content-length" }?.value ?? "0") ?? 0
        while buffer.count < length { if !fill() { return nil } }
        let body = Array(buffer[0..<length])
        buffer.removeFirst(length)
        let target = String(requestLine[1])
        let (path, query) = Self.split(target)
        return LocalHTTPRequest(method: String(requestLine[0]), target: target, path: path, query: query,
                               headers: headers, body: body, clientCommonName: nil, clientOrganizations: [])
    }

    static func split(_ target: String) -> (String, [(name: String, value: String)]) {
        guard let q = target.firstIndex(of: "?") else { return (target.removingPercentEncoding ?? target, []) }
        let path = String(target[..<q])
        let items = target[target.index(after: q)...].split(separator: "&").map { pair -> (name: String, value: String) in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func dec(_ s: Substring) -> String { s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
            return (dec(parts[0]), parts.count > 1 ? dec(parts[1]) : "")
        }
        return (path.removingPercentEncoding ?? path, items)
    }
}

/// Counts a server's live threads; ``waitUntilFinished(timeout:)`` blocks until the others have ended.
private final class ServerThreads: @unchecked Sendable {  // @unchecked: state guarded by `condition`
    private let condition = NSCondition()
    private var live = 0
    private var ids = Set<pthread_t>()

    /// Before a thread is created: it counts from now on, so a waiter never misses one that has not started yet.
    func started() {
        condition.lock(); live += 1; condition.unlock()
    }

    /// Runs a counted thread's body; the thread stops counting when it returns, after its OpenSSL state was freed.
    func running(_ body: () -> Void) {
        let me = pthread_self()
        condition.lock(); ids.insert(me); condition.unlock()
        body()
        ctls_release_thread_state()
        condition.lock()
        ids.remove(me)
        live -= 1
        condition.broadcast()
        condition.unlock()
    }

    var count: Int { condition.lock(); defer { condition.unlock() }; return live }

    func waitUntilFinished(timeout: Duration) {
        let deadline = Date().addingTimeInterval(Double(timeout.components.seconds)
                                                 + Double(timeout.components.attoseconds) / 1e18)
        condition.lock()
        defer { condition.unlock() }
        // The calling thread, when it is one of the server's, cannot wait for itself.
        let own = ids.contains(pthread_self()) ? 1 : 0
        while live > own, condition.wait(until: deadline) {}
    }
}
