import CurlHTTP
import Foundation
import HTTPTestSupport
import Logging
import Testing

/// A loopback HTTPS server with a few routes the client tests need.
final class EchoServer: Sendable {
    let server: TestHTTPSServer
    let certs: TestCertificates
    let streamGate = LockedBox<Bool>(false)
    let streamClientGone = LockedBox<Bool>(false)

    init() throws {
        certs = try TestCertificates.shared()
        let gate = streamGate
        let gone = streamClientGone
        server = try TestHTTPSServer(certificates: certs) { req, res in
            switch req.path {
            case "/echo":
                var headers = [("X-Method", req.method), ("X-Body-Length", "\(req.body.count)")]
                if let cn = req.clientCommonName { headers.append(("X-Client-CN", cn)) }
                if let t = req.header("X-Test") { headers.append(("X-Test-Echo", t)) }
                res.respond(status: 200, headers: headers, body: req.body)
            case "/missing":
                res.respond(status: 404, body: Array("nope".utf8))
            case "/slow":
                Thread.sleep(forTimeInterval: Double(req.queryValue("ms") ?? "0").map { $0 / 1000 } ?? 0)
                res.respond(status: 200, body: Array(req.queryValue("id").map { "slow \($0)" }?.utf8 ?? "slow".utf8))
            case "/stream":
                res.startStream(status: 200, headers: [("Content-Type", "text/plain")])
                res.writeChunk(Array("first\n".utf8))
                while !gate.withLock({ $0 }) { Thread.sleep(forTimeInterval: 0.005) }
                res.writeChunk(Array("second\n".utf8))
                res.writeChunk(Array("third\n".utf8))
                res.endStream()
            case "/endless":
                res.startStream(status: 200)
                for i in 0..<2000 {
                    if !res.writeChunk(Array("line \(i)\n".utf8)) { gone.withLock { $0 = true }; return }
                    Thread.sleep(forTimeInterval: 0.005)
                }
                res.endStream()
            case "/drop":
                res.dropConnection()
            default:
                res.respond(status: 404)
            }
        }
    }

    var url: String { server.baseURL }
    deinit { server.stop() }

    func client(_ tls: TLSOptions? = nil, httpVersion: HTTPClientConfiguration.HTTPVersion = .automatic) throws -> HTTPClient {
        try HTTPClient(configuration: HTTPClientConfiguration(
            tls: tls ?? TLSOptions(certificateAuthority: .file(certs.caCertificate)), httpVersion: httpVersion),
            logger: Logger(label: "test"))
    }
}

struct HTTPClientTests {
    @Test func getReturnsStatusHeadersAndBody() async throws {
        let s = try EchoServer()
        let client = try s.client()
        let r = try await client.execute(HTTPRequest(url: s.url + "/echo", headers: ["X-Test": "hello"]))
        #expect(r.status == 200)
        #expect(r.headers["x-method"] == "GET")
        #expect(r.headers["X-Test-Echo"] == "hello")
        #expect(r.body.isEmpty)
    }

    @Test(arguments: [HTTPMethod.post, .put, .patch, .delete])
    func bodiesAreSentWithEveryMethod(_ method: HTTPMethod) async throws {
        let s = try EchoServer()
        let client = try s.client()
        let payload = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let r = try await client.execute(HTTPRequest(method: method, url: s.url + "/echo", body: payload))
        #expect(r.status == 200)
        #expect(r.headers["X-Method"] == method.rawValue)
        #expect(r.body == payload)
        let d = try await client.execute(HTTPRequest(method: method, url: s.url + "/echo", body: Data("data".utf8)))
        #expect(d.bodyData == Data("data".utf8))
        let empty = try await client.execute(HTTPRequest(method: method, url: s.url + "/echo", body: []))
        #expect(empty.headers["X-Body-Length"] == "0")
    }

    @Test func headRequestHasNoBody() async throws {
        let s = try EchoServer()
        let r = try await s.client().execute(HTTPRequest(method: .head, url: s.url + "/echo"))
        #expect(r.status == 200)
        #expect(r.headers["X-Method"] == "HEAD")
    }

    @Test func errorStatusesAreResponsesNotErrors() async throws {
        let s = try EchoServer()
        let r = try await s.client().execute(HTTPRequest(url: s.url + "/missing"))
        #expect(r.status == 404)
        #expect(r.body == Array("nope".utf8))
    }

    @Test func manyConcurrentRequestsAllComplete() async throws {
        let s = try EchoServer()
        let client = try s.client()
        let bodies = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for i in 0..<48 {
                group.addTask {
                    let r = try await client.execute(HTTPRequest(url: s.url + "/slow?ms=50&id=\(i)"))
                    return (i, String(decoding: r.body, as: UTF8.self))
                }
            }
            return try await group.reduce(into: [Int: String]()) { $0[$1.0] = $1.1 }
        }
        #expect(bodies.count == 48)
        for (i, body) in bodies { #expect(body == "slow \(i)") }
        // 48 requests that each wait 50 ms server-side cannot all share one HTTP/1.1 connection.
        #expect(s.server.acceptedConnections > 1)
    }

    @Test func sequentialRequestsReuseOneConnection() async throws {
        let s = try EchoServer()
        let client = try s.client()
        for _ in 0..<5 {
            let r = try await client.execute(HTTPRequest(method: .post, url: s.url + "/echo", body: Array("x".utf8)))
            #expect(r.status == 200)
        }
        #expect(s.server.acceptedConnections == 1)
    }

    @Test func streamDeliversHeadBeforeTheBodyEnds() async throws {
        let s = try EchoServer()
        let client = try s.client()
        let response = try await client.stream(HTTPRequest(url: s.url + "/stream"))
        #expect(response.status == 200)
        #expect(response.headers["content-type"] == "text/plain")
        var text = ""
        for try await chunk in response.body {
            text += String(decoding: chunk, as: UTF8.self)
            if text == "first\n" { s.streamGate.withLock { $0 = true } }  // server sends the rest only now
        }
        #expect(text == "first\nsecond\nthird\n")
    }

    @Test func leavingAStreamEarlyClosesTheConnection() async throws {
        let s = try EchoServer()
        let client = try s.client()
        let response = try await client.stream(HTTPRequest(url: s.url + "/endless"))
        var lines = 0
        for try await chunk in response.body {
            lines += chunk.filter { $0 == 10 }.count
            if lines >= 3 { break }
        }
        for _ in 0..<400 where !s.streamClientGone.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(s.streamClientGone.withLock { $0 })
    }

    @Test func requestTimeoutIsReportedAsTimeout() async throws {
        let s = try EchoServer()
        let error = await #expect(throws: HTTPError.self) {
            _ = try await s.client().execute(HTTPRequest(url: s.url + "/slow?ms=2000", timeout: .milliseconds(200)))
        }
        #expect(error?.code == .timeout)
        #expect(error?.retry == .transient)
    }

    @Test func taskCancellationAbortsTheRequest() async throws {
        let s = try EchoServer()
        let client = try s.client()
        let task = Task { try await client.execute(HTTPRequest(url: s.url + "/slow?ms=3000")) }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        let result = await task.result
        guard case .failure(let error as HTTPError) = result else {
            Issue.record("expected HTTPError, got \(result)")
            return
        }
        #expect(error.code == .cancelled)
    }

    @Test func refusedConnectionIsTyped() async throws {
        let s = try EchoServer()
        let port = s.server.port
        s.server.stop()
        try await Task.sleep(for: .milliseconds(50))
        let error = await #expect(throws: HTTPError.self) {
            _ = try await s.client().execute(HTTPRequest(url: "https://127.0.0.1:\(port)/echo"))
        }
        #expect(error?.code == .connectionRefused)
    }

    @Test func droppedConnectionIsTypedAsReset() async throws {
        let s = try EchoServer()
        let error = await #expect(throws: HTTPError.self) {
            _ = try await s.client().execute(HTTPRequest(url: s.url + "/drop"))
        }
        #expect(error?.code == .connectionReset)
    }

    @Test func unknownHostIsTypedAsDNS() async throws {
        let s = try EchoServer()
        let error = await #expect(throws: HTTPError.self) {
            _ = try await s.client().execute(HTTPRequest(url: "https://no-such-host.invalid/", timeout: .seconds(20)))
        }
        #expect(error?.code == .dns)
    }

    @Test func untrustedServerIsATLSErrorWithCurlText() async throws {
        let s = try EchoServer()
        let client = try s.client(TLSOptions(certificateAuthority: .file(s.certs.otherCACertificate)))
        let error = await #expect(throws: HTTPError.self) {
            _ = try await client.execute(HTTPRequest(url: s.url + "/echo"))
        }
        #expect(error?.code == .tls)
        #expect(error?.retry == .permanent)
        #expect(error?.message.isEmpty == false)
    }

    @Test func inMemoryCAAndInsecureModeBothConnect() async throws {
        let s = try EchoServer()
        let blob = try s.client(TLSOptions(certificateAuthority: .pem(s.certs.bytes("ca.crt"))))
        #expect(try await blob.execute(HTTPRequest(url: s.url + "/echo")).status == 200)
        let insecure = try s.client(TLSOptions(insecureSkipVerify: true))
        #expect(try await insecure.execute(HTTPRequest(url: s.url + "/echo")).status == 200)
    }

    @Test(arguments: [false, true])
    func clientCertificatesArepresented(inMemory: Bool) async throws {
        let s = try EchoServer()
        let tls = inMemory
            ? TLSOptions(certificateAuthority: .file(s.certs.caCertificate),
                         clientCertificate: .pem(try s.certs.bytes("alice.crt")), clientKey: .pem(try s.certs.bytes("alice.key")))
            : TLSOptions(certificateAuthority: .file(s.certs.caCertificate),
                         clientCertificate: .file(s.certs.aliceCertificate), clientKey: .file(s.certs.aliceKey))
        let r = try await s.client(tls).execute(HTTPRequest(url: s.url + "/echo"))
        #expect(r.headers["X-Client-CN"] == "alice")
    }

    @Test func shutdownFailsLaterRequests() async throws {
        let s = try EchoServer()
        let client = try s.client()
        client.shutdown()
        let error = await #expect(throws: HTTPError.self) {
            _ = try await client.execute(HTTPRequest(url: s.url + "/echo"))
        }
        #expect(error?.code == .shutdown)
    }

    @Test func errorsNeverCarryTheQueryOrUserInfo() async throws {
        let s = try EchoServer()
        let url = s.url.replacingOccurrences(of: "https://", with: "https://user:pw@") + "/drop?X-Amz-Signature=secret"
        let error = await #expect(throws: HTTPError.self) {
            _ = try await s.client().execute(HTTPRequest(url: url))
        }
        #expect(error?.url == s.url + "/drop")
        #expect(error?.description.contains("secret") == false)
    }
}
