import CurlHTTP
import Foundation
import HTTPTestSupport
import Logging
import Testing

/// Buffered response bodies are capped (issue 17 item 4): a peer cannot make the client hold unbounded bytes.
struct ResponseLimitTests {
    static func withServer(_ body: (TestHTTPSServer, HTTPClient) async throws -> Void) async throws {
        let certs = try TestCertificates.shared()
        let server = try TestHTTPSServer(certificates: certs) { req, res in
            let n = Int(req.queryValue("n") ?? "0") ?? 0
            if req.path == "/chunked" {
                res.startStream(status: 200)
                for _ in 0..<(n / 1000) { if !res.writeChunk([UInt8](repeating: 97, count: 1000)) { return } }
                res.endStream()
            } else {
                res.respond(status: 200, body: [UInt8](repeating: 98, count: n))
            }
        }
        defer { server.stop() }
        var config = HTTPClientConfiguration(tls: TLSOptions(certificateAuthority: .file(certs.caCertificate)))
        config.maximumResponseBytes = 64 << 10
        let client = try HTTPClient(configuration: config, logger: Logger(label: "test"))
        defer { client.shutdown() }
        try await body(server, client)
    }

    @Test(arguments: ["/fixed", "/chunked"])
    func bodyOverTheClientLimitFailsAsResponseTooLarge(_ path: String) async throws {
        try await Self.withServer { server, client in
            let e = await #expect(throws: HTTPError.self) {
                _ = try await client.execute(HTTPRequest(url: server.baseURL + path + "?n=200000"))
            }
            #expect(e?.code == .responseTooLarge)
            #expect(e?.retry == .permanent)
            // At the limit passes.
            let ok = try await client.execute(HTTPRequest(url: server.baseURL + path + "?n=\(64 << 10)"))
            #expect(ok.body.count == (path == "/fixed" ? 64 << 10 : (64 << 10) / 1000 * 1000))
        }
    }

    @Test func aRequestMayLowerOrRaiseTheLimit() async throws {
        try await Self.withServer { server, client in
            let e = await #expect(throws: HTTPError.self) {
                _ = try await client.execute(HTTPRequest(url: server.baseURL + "/fixed?n=2000", maximumResponseBytes: 1000))
            }
            #expect(e?.code == .responseTooLarge)
            let big = try await client.execute(HTTPRequest(url: server.baseURL + "/fixed?n=200000",
                                                           maximumResponseBytes: 1 << 20))
            #expect(big.body.count == 200_000)
        }
    }
}
