import Testing
@testable import Kopia

/// AWS's published Signature V4 examples: the S3 API reference's "Examples: Signature Calculations" (credentials
/// `AKIAIOSFODNN7EXAMPLE`, 2013-05-24) and the generic SigV4 test suite (`AKIDEXAMPLE`, 2015-08-30, service
/// `service`). Each expected value is AWS's, not ours.
struct SigV4SignerTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String
        var keyID: String
        var secret: String
        var service: String
        var amzDate: String
        var method: String
        var host: String
        var path: String
        var query: [(name: String, value: String)]
        var headers: [(name: String, value: String)]
        var body: [UInt8]?
        var canonicalRequestHash: String?
        var signedHeaders: String
        var signature: String
        var testDescription: String { name }
    }

    static let s3Key = "AKIAIOSFODNN7EXAMPLE"
    static let s3Secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    static let suiteKey = "AKIDEXAMPLE"
    static let suiteSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    static let vectors: [Vector] = [
        Vector(name: "S3 GET object with Range", keyID: s3Key, secret: s3Secret, service: "s3",
               amzDate: "20130524T000000Z", method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt",
               query: [], headers: [("Range", "bytes=0-9"), ("x-amz-content-sha256", empty)], body: nil,
               canonicalRequestHash: "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
               signedHeaders: "host;range;x-amz-content-sha256;x-amz-date",
               signature: "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
        Vector(name: "S3 PUT object with an escaped key and a payload", keyID: s3Key, secret: s3Secret, service: "s3",
               amzDate: "20130524T000000Z", method: "PUT", host: "examplebucket.s3.amazonaws.com",
               path: "/" + S3URIEncoding.encode("test$file.text", keepSlash: true), query: [],
               headers: [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                         ("x-amz-content-sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")],
               body: Array("Welcome to Amazon S3.".utf8),
               canonicalRequestHash: "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d",
               signedHeaders: "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
               signature: "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"),
        Vector(name: "S3 GET bucket lifecycle (empty query value)", keyID: s3Key, secret: s3Secret, service: "s3",
               amzDate: "20130524T000000Z", method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/",
               query: [("lifecycle", "")], headers: [("x-amz-content-sha256", empty)], body: nil,
               canonicalRequestHash: nil, signedHeaders: "host;x-amz-content-sha256;x-amz-date",
               signature: "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
        Vector(name: "S3 list objects (query sorted)", keyID: s3Key, secret: s3Secret, service: "s3",
               amzDate: "20130524T000000Z", method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/",
               query: [("prefix", "J"), ("max-keys", "2")], headers: [("x-amz-content-sha256", empty)], body: nil,
               canonicalRequestHash: nil, signedHeaders: "host;x-amz-content-sha256;x-amz-date",
               signature: "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
        Vector(name: "suite get-vanilla", keyID: suiteKey, secret: suiteSecret, service: "service",
               amzDate: "20150830T123600Z", method: "GET", host: "example.amazonaws.com", path: "/", query: [],
               headers: [], body: nil, canonicalRequestHash: nil, signedHeaders: "host;x-amz-date",
               signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        Vector(name: "suite get-vanilla-query-order-key-case", keyID: suiteKey, secret: suiteSecret,
               service: "service", amzDate: "20150830T123600Z", method: "GET", host: "example.amazonaws.com",
               path: "/", query: [("Param2", "value2"), ("Param1", "value1")], headers: [], body: nil,
               canonicalRequestHash: nil, signedHeaders: "host;x-amz-date",
               signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
        Vector(name: "suite get-utf8", keyID: suiteKey, secret: suiteSecret, service: "service",
               amzDate: "20150830T123600Z", method: "GET", host: "example.amazonaws.com",
               path: "/" + S3URIEncoding.encode("\u{1234}", keepSlash: true), query: [], headers: [], body: nil,
               canonicalRequestHash: nil, signedHeaders: "host;x-amz-date",
               signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"),
    ]

    /// Query values holding `/`, `+`, `=`, space and UTF-8, which AWS's published examples do not cover. AWS's rule
    /// (SigV4 "Create a canonical request"): in the canonical query string every byte except `A-Z a-z 0-9 - _ . ~`
    /// is percent-encoded, `/` included (`prefix=volsync%2Fwebapp%2F`); only the canonical URI keeps `/`. Expected
    /// signatures are botocore's (an independent SigV4 implementation), made by scripts/sigv4-botocore-vectors.py,
    /// which also reproduces AWS's published "list objects" signature above.
    static let slashQueryVectors: [Vector] = [
        Vector(name: "botocore: ListObjectsV2 under a prefix with /", keyID: s3Key, secret: s3Secret, service: "s3",
               amzDate: "20130524T000000Z", method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/",
               query: [("list-type", "2"), ("prefix", "volsync/webapp/"), ("max-keys", "1000")],
               headers: [("x-amz-content-sha256", empty)], body: nil, canonicalRequestHash: nil,
               signedHeaders: "host;x-amz-content-sha256;x-amz-date",
               signature: "4179c061059f89bddf06acb82ee9e9b2a988638b23c93cf428b264eab145ac0a"),
        Vector(name: "botocore: continuation token with / + = and space", keyID: s3Key, secret: s3Secret,
               service: "s3", amzDate: "20130524T000000Z", method: "GET", host: "examplebucket.s3.amazonaws.com",
               path: "/", query: [("list-type", "2"), ("prefix", "volsync/webapp/xe"),
                                  ("continuation-token", "1/a+b=c d")],
               headers: [("x-amz-content-sha256", empty)], body: nil, canonicalRequestHash: nil,
               signedHeaders: "host;x-amz-content-sha256;x-amz-date",
               signature: "635d2598abac37b02c60e28cf09eb5bd057acc2be5f6e0a2bb07fe7a38af97bc"),
        Vector(name: "botocore: UTF-8 prefix with / and space", keyID: s3Key, secret: s3Secret, service: "s3",
               amzDate: "20130524T000000Z", method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/",
               query: [("prefix", "\u{FC}/\u{E4} b")], headers: [("x-amz-content-sha256", empty)], body: nil,
               canonicalRequestHash: nil, signedHeaders: "host;x-amz-content-sha256;x-amz-date",
               signature: "205609fa8bd22857f8137f76d0e620519bbe971aca3e98d6befb26f5f5f08b0d"),
    ]

    @Test(arguments: slashQueryVectors)
    func queryValuesWithSlashSignAsBotocoreDoes(_ v: Vector) {
        signatureMatchesAWSPublishedExample(v)
    }

    /// The query sent on the wire is byte-for-byte the signed canonical query: `/` in a prefix goes out as `%2F`.
    @Test func listRequestSendsTheQueryItSigned() throws {
        let builder = S3RequestBuilder(endpoint: try S3Endpoint.parse("http://127.0.0.1:9000"), bucket: "bucket1",
                                       addressingStyle: .path)
        var request = builder.listObjectsV2(prefix: "volsync/webapp/xe", continuationToken: "1/a+b")
        let signer = SigV4Signer(credentials: S3Credentials(accessKeyID: Self.s3Key, secretAccessKey: Self.s3Secret),
                                 region: "us-east-1")
        let result = signer.sign(&request, payloadHash: Self.empty, date: "20130524T000000Z")
        let canonicalQuery = result.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[2]
        #expect(canonicalQuery == "continuation-token=1%2Fa%2Bb&list-type=2&max-keys=1000&prefix=volsync%2Fwebapp%2Fxe")
        #expect(request.url == "http://127.0.0.1:9000/bucket1?\(canonicalQuery)")
        #expect(result.canonicalRequest.split(separator: "\n")[1] == "/bucket1")
    }

    @Test(arguments: vectors)
    func signatureMatchesAWSPublishedExample(_ v: Vector) {
        let signer = SigV4Signer(credentials: S3Credentials(accessKeyID: v.keyID, secretAccessKey: v.secret),
                                 region: "us-east-1", service: v.service)
        var request = S3Request(method: v.method, scheme: .https, host: v.host, path: v.path, query: v.query,
                                headers: v.headers, body: v.body)
        let payloadHash = Hex.encode(S3Digest.sha256(v.body ?? []))
        let result = signer.sign(&request, payloadHash: payloadHash, date: v.amzDate)
        if let expected = v.canonicalRequestHash {
            #expect(Hex.encode(S3Digest.sha256(Array(result.canonicalRequest.utf8))) == expected)
        }
        #expect(result.signedHeaders == v.signedHeaders)
        #expect(result.signature == v.signature)
        let scope = "\(v.amzDate.prefix(8))/us-east-1/\(v.service)/aws4_request"
        #expect(request.header("Authorization")
            == "AWS4-HMAC-SHA256 Credential=\(v.keyID)/\(scope), SignedHeaders=\(v.signedHeaders), Signature=\(v.signature)")
    }

    @Test func sessionTokenIsSentAndSigned() {
        let signer = SigV4Signer(credentials: S3Credentials(accessKeyID: "AKID", secretAccessKey: "s", sessionToken: "tok"),
                                 region: "eu-west-1")
        var request = S3Request(method: "GET", scheme: .https, host: "h", path: "/b/k")
        let result = signer.sign(&request, payloadHash: SigV4SignerTests.empty, date: "20260101T000000Z")
        #expect(request.header("x-amz-security-token") == "tok")
        #expect(result.signedHeaders == "host;x-amz-date;x-amz-security-token")
        #expect(result.stringToSign.contains("20260101/eu-west-1/s3/aws4_request"))
    }

    @Test(arguments: [
        (Int64(0), "19700101T000000Z"), (Int64(1_440_938_160), "20150830T123600Z"),
        (Int64(1_369_353_600), "20130524T000000Z"), (Int64(951_782_400), "20000229T000000Z"),
        (Int64(4_102_444_799), "20991231T235959Z"),
    ])
    func amzDateFormatsUTC(_ seconds: Int64, _ expected: String) {
        #expect(SigV4Signer.amzDate(epochSeconds: seconds) == expected)
    }

    @Test func headerValuesAreTrimmedAndCollapsed() {
        #expect(SigV4Signer.canonicalValue("  a   b \t c  ") == "a b c")
        #expect(SigV4Signer.canonicalValue("") == "")
    }

    @Test func uriEncodingKeepsOnlyUnreservedCharacters() {
        #expect(S3URIEncoding.encode("a b/c~d_e.f-g+h=") == "a%20b%2Fc~d_e.f-g%2Bh%3D")
        #expect(S3URIEncoding.encode("repo/p0a1-s2", keepSlash: true) == "repo/p0a1-s2")
        #expect(S3URIEncoding.encode("é") == "%C3%A9")
    }
}
