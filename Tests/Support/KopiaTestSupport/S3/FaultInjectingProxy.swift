#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// An HTTP/1.1 reverse proxy on loopback that forwards requests to an upstream server (moto) unchanged — so SigV4
/// signatures, which cover the `Host` header the client sent, stay valid — and injects faults chosen per request:
/// dropped connections, 5xx/`SlowDown` responses, and AWS-style wrong-region answers.
///
/// Every connection carries one request (responses say `Connection: close`). Each connection runs on its own
/// thread; `stop()` closes the listener. The `plan` sees each request with how many times the same method + path +
/// `Range` was seen before, so "fail the first two attempts, then pass" is easy to write.
public final class FaultInjectingProxy: Sendable {
    public enum Fault: Sendable, Equatable {
        /// Forward to the upstream server.
        case pass
        /// Close the connection without answering (the client sees an empty reply).
        case dropConnection
        /// Answer with `status` and an S3 `<Error>` document carrying `code`.
        case status(Int, code: String)
        /// Answer like AWS when the signature's region is not `region`: 400 `AuthorizationHeaderMalformed` with
        /// `<Region>`; requests already signed for `region` pass.
        case requireRegion(String)
    }

    public struct Request: Sendable {
        public var method: String
        public var target: String
        public var headers: [(String, String)]
        /// Earlier requests with the same method, path (no query) and `Range` (or Azure's `x-ms-range`).
        public var attempt: Int
        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
        /// The region in the SigV4 credential scope, if signed.
        public var signedRegion: String? {
            guard let auth = header("authorization"), let r = auth.range(of: "Credential=") else { return nil }
            let parts = auth[r.upperBound...].split(separator: ",")[0].split(separator: "/")
            return parts.count >= 3 ? String(parts[2]) : nil
        }
    }

    public struct Record: Sendable {
        public var method: String
        public var target: String
        public var fault: Fault
    }

    private struct State {
        var seen: [String: Int] = [:]
        var records: [Record] = []
        var listener: Int32 = -1
        var stopped = false
    }

    public let port: Int
    private let upstreamPort: Int
    private let plan: @Sendable (Request) -> Fault
    private let state: Mutex<State>

    public var endpoint: String { "http://127.0.0.1:\(port)" }

    /// Every request seen, in arrival order.
    public var records: [Record] { state.withLock { $0.records } }

    public init(upstreamPort: Int, plan: @escaping @Sendable (Request) -> Fault) throws {
        self.upstreamPort = upstreamPort
        self.plan = plan
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestServerError("socket() failed") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0, listen(fd, 128) == 0 else {
            close(fd)
            throw TestServerError("bind/listen failed: errno \(errno)")
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        self.port = Int(UInt16(bigEndian: addr.sin_port))
        self.state = Mutex(State(listener: fd))
        let thread = Thread { [self] in self.acceptLoop(fd) }
        thread.start()
    }

    deinit { stop() }

    /// Closes the listener; connections in progress finish on their own. Idempotent.
    public func stop() {
        let fd: Int32 = state.withLock { s in
            defer { s.listener = -1; s.stopped = true }
            return s.listener
        }
        if fd >= 0 {
            shutdown(fd, Int32(SHUT_RDWR))
            close(fd)
        }
    }

    private func acceptLoop(_ listener: Int32) {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            if state.withLock({ $0.stopped }) {
                close(client)
                return
            }
            let thread = Thread { [self] in self.handle(client) }
            thread.start()
        }
    }

    private func handle(_ client: Int32) {
        defer { close(client) }
        guard let (head, body) = Self.readRequest(client) else { return }
        let lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n")
        let requestLine = lines[0].split(separator: " ")
        guard requestLine.count >= 2 else { return }
        let method = String(requestLine[0]), target = String(requestLine[1])
        var headers: [(String, String)] = []
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        let path = target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? target
        let range = headers.first { $0.0.lowercased() == "range" || $0.0.lowercased() == "x-ms-range" }?.1 ?? ""
        let key = "\(method) \(path) \(range)"
        let attempt = state.withLock { s in
            defer { s.seen[key, default: 0] += 1 }
            return s.seen[key, default: 0]
        }
        let request = Request(method: method, target: target, headers: headers, attempt: attempt)
        var fault = plan(request)
        if case .requireRegion(let region) = fault, request.signedRegion == region { fault = .pass }
        state.withLock { $0.records.append(Record(method: method, target: target, fault: fault)) }
        switch fault {
        case .dropConnection:
            return
        case .status(let status, let code):
            Self.sendError(client, status: status, code: code, region: nil)
        case .requireRegion(let region):
            Self.sendError(client, status: 400, code: "AuthorizationHeaderMalformed", region: region)
        case .pass:
            forward(client, requestLine: lines[0], headers: headers, body: body)
        }
    }

    private func forward(_ client: Int32, requestLine: String, headers: [(String, String)], body: [UInt8]) {
        let up = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard up >= 0 else { return }
        defer { close(up) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(upstreamPort).bigEndian)
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(up, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0 else { return }
        var out = requestLine + "\r\n"
        for (n, v) in headers where n.lowercased() != "connection" { out += "\(n): \(v)\r\n" }
        out += "Connection: close\r\n\r\n"
        guard Self.sendAll(up, Array(out.utf8) + body) else { return }
        // Read the whole upstream response (it closes after one), then rewrite its Connection header.
        var response = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = recv(up, &buffer, buffer.count, 0)
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        guard let end = Self.headEnd(response) else { return }
        let headText = String(decoding: response[0..<end], as: UTF8.self)
        let kept = headText.components(separatedBy: "\r\n").filter { !$0.lowercased().hasPrefix("connection:") }
        let newHead = kept.joined(separator: "\r\n") + "\r\nConnection: close\r\n\r\n"
        _ = Self.sendAll(client, Array(newHead.utf8) + response[(end + 4)...])
    }

    private static func sendError(_ fd: Int32, status: Int, code: String, region: String?) {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>\(code)</Code>"
            + "<Message>injected by FaultInjectingProxy</Message>"
            + (region.map { "<Region>\($0)</Region>" } ?? "") + "<RequestId>fault</RequestId></Error>"
        let head = "HTTP/1.1 \(status) Injected\r\nContent-Type: application/xml\r\nContent-Length: \(xml.utf8.count)\r\n"
            + "Connection: close\r\n\r\n"
        _ = sendAll(fd, Array((head + xml).utf8))
    }

    private static func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4)
        where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }

    /// Reads one request: head up to the blank line, then `Content-Length` bytes of body.
    private static func readRequest(_ fd: Int32) -> ([UInt8], [UInt8])? {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var end: Int?
        while end == nil {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return nil }
            data += buffer[0..<n]
            end = headEnd(data)
            if data.count > 1 << 20 && end == nil { return nil }
        }
        guard let end else { return nil }
        let head = Array(data[0..<end])
        var body = Array(data[(end + 4)...])
        let text = String(decoding: head, as: UTF8.self).lowercased()
        var length = 0
        for line in text.components(separatedBy: "\r\n") where line.hasPrefix("content-length:") {
            length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        while body.count < length {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return nil }
            body += buffer[0..<n]
        }
        return (head, body)
    }
}
