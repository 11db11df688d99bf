import CurlHTTP
import Foundation
import Testing
import KopiaTestSupport
@testable import Kopia

/// Shared Key signing: Microsoft's documented example, and equality with the official Python SDK
/// (azure-storage-blob's `SharedKeyCredentialPolicy`) over every request kind Ferry sends.
struct AzureSharedKeySignerTests {
    /// Azurite's public development key (kopia-format.md §18.4).
    static let azuriteKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

    @Test func documentedGetContainerMetadataExampleSignsAsRecorded() throws {
        guard case .sharedKey(let key) = try AzureCredentials.sharedKey(base64: Self.azuriteKey, source: "test") else {
            Issue.record("not a shared key")
            return
        }
        let signer = AzureSharedKeySigner(account: "myaccount", key: key)
        let headers: [(name: String, value: String)] = [("x-ms-version", "2015-02-21"),
                                                        ("x-ms-date", "Fri, 26 Jun 2015 23:39:12 GMT")]
        let text = signer.stringToSign(method: "GET", path: "/mycontainer", query: "restype=container&comp=metadata&timeout=20",
                                       headers: headers)
        #expect(text == "GET" + String(repeating: "\n", count: 12)
            + "x-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\nx-ms-version:2015-02-21\n/myaccount/mycontainer\ncomp:metadata\nrestype:container\ntimeout:20")
        #expect(signer.authorization(method: "GET", path: "/mycontainer", query: "restype=container&comp=metadata&timeout=20",
                                     headers: headers) == "SharedKey myaccount:1u9lui2jDxj0+fpbHjQ5m5NnastJRSYM+PSmfi8TXx4=")
        #expect(AzureSharedKeySigner.httpDate(epochSeconds: 1_435_361_952) == "Fri, 26 Jun 2015 23:39:12 GMT")
    }

    /// Every request kind the storage sends, signed by Ferry and by the SDK for the same method, URL and headers.
    @Test func signaturesEqualTheAzureSDKsForEveryRequestKind() async throws {
        let config = AzureConfiguration(location: AzureLocation(container: "kopia-repo", prefix: "team/app/"),
                                        account: "ferrytest", domain: "blob.core.windows.net",
                                        credentials: try .sharedKey(base64: Self.azuriteKey, source: "test"))
        let b = AzureRequestBuilder(configuration: config)
        let t: Int64 = 1_800_000_000
        let body = Array("pack bytes".utf8)
        let requests: [(String, HTTPRequest)] = [
            ("get whole", b.getBlob("team/app/kopia.repository", epochSeconds: t)),
            ("get range", b.getBlob("team/app/p0123-s1", offset: 4096, length: 100, epochSeconds: t)),
            ("properties", b.blobProperties("team/app/xn0_abc-s1-c1", epochSeconds: t)),
            ("list", b.listBlobs(prefix: "team/app/p", marker: nil, epochSeconds: t)),
            ("list marker", b.listBlobs(prefix: "team/app/", marker: "2!84!MDAwMDE5IXRlYW0vYXBwL3AwMDAx", epochSeconds: t)),
            ("put", b.putBlob("team/app/q9-s0", body: body, epochSeconds: t)),
            ("put empty", b.putBlob("team/app/_log_1", body: [], epochSeconds: t)),
            ("delete", b.deleteBlob("team/app/p0123-s1", epochSeconds: t)),
            ("create container", b.createContainer(epochSeconds: t)),
            ("odd name", b.getBlob("team/app/a b+c%2F=é", epochSeconds: t + 1)),
        ]
        let input = try JSONSerialization.data(withJSONObject: requests.map { _, r in
            ["method": r.method.rawValue, "url": r.url, "headers": r.headers.map { [$0.name, $0.value] }] as [String: Any]
        })
        let out = try await PeerScripts.run("azure_sign.py", ["ferrytest", Self.azuriteKey], input: input)
        let sdk = try #require(try JSONSerialization.jsonObject(with: out) as? [String])
        #expect(sdk.count == requests.count)
        for ((kind, request), theirs) in zip(requests, sdk) {
            #expect(request.headers["Authorization"] == theirs, "\(kind): \(request.url)")
            #expect(theirs.hasPrefix("SharedKey ferrytest:"))
        }
    }

    @Test func sasRequestsCarryTheTokenAndNoAuthorization() throws {
        let config = AzureConfiguration(location: AzureLocation(container: "repo"), account: "ferrytest",
                                        credentials: .sas("?sv=2021-08-06&sr=c&sp=racwdl&se=2030-01-01T00%3A00%3A00Z&sig=abc%2Bdef%3D"))
        let b = AzureRequestBuilder(configuration: config)
        let get = b.getBlob("kopia.repository", epochSeconds: 0)
        #expect(get.url == "https://ferrytest.blob.core.windows.net/repo/kopia.repository?sv=2021-08-06&sr=c&sp=racwdl&se=2030-01-01T00%3A00%3A00Z&sig=abc%2Bdef%3D")
        #expect(get.headers["Authorization"] == nil)
        let list = b.listBlobs(prefix: "p", marker: nil, epochSeconds: 0)
        #expect(list.url.hasPrefix("https://ferrytest.blob.core.windows.net/repo?restype=container&comp=list&prefix=p&include=metadata&sv="))
        #expect(!"\(config)".contains("abc") && "\(config)".contains("sp=racwdl"))
    }
}
