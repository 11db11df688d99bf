import CurlHTTP
import Logging
import HTTPTestSupport
import Testing

/// Timeouts from configuration reach libcurl through the clamped conversion (this overflowed `Int` before).
struct ConfiguredTimeoutTests {
    @Test func centuriesLongTimeoutsDoNotTrap() async throws {
        let s = try EchoServer()
        let client = try HTTPClient(configuration: HTTPClientConfiguration(
            tls: TLSOptions(certificateAuthority: .file(s.certs.caCertificate)),
            connectTimeout: .seconds(Int64.max), defaultTimeout: .seconds(Int64.max / 3)), logger: Logger(label: "test"))
        let r = try await client.execute(HTTPRequest(url: s.url + "/echo", timeout: .seconds(Int64.max)))
        #expect(r.status == 200)
    }
}
