import Testing
@testable import Kopia

struct S3ErrorMappingTests {
    static let context = S3ErrorMapping.Context(
        location: S3Location(bucket: "bucket", prefix: "repo/"),
        endpoint: S3Endpoint(scheme: .http, host: "127.0.0.1", port: 9000), region: "us-east-1",
        redactedAccessKeyID: "AKIA…")

    static func error(_ status: Int, _ code: String?, region: String? = nil, op: S3ServiceError.Operation = .get)
        -> S3ServiceError
    {
        S3ServiceError(status: status, code: code, message: "m", region: region, operation: op, url: "http://h/b/k")
    }

    @Test(arguments: [(500, nil), (502, nil), (503, "SlowDown"), (504, nil), (429, nil), (400, "RequestTimeout"),
                      (400, "SlowDown")] as [(Int, String?)])
    func transientResponsesAreRetried(_ status: Int, _ code: String?) {
        let d = S3ErrorMapping.disposition(status: status, error: Self.error(status, code),
                                           currentRegion: "us-east-1")
        guard case .retry = d else { Issue.record("not retried: \(d)"); return }
    }

    @Test(arguments: [(400, "InvalidArgument"), (403, "AccessDenied"), (404, "NoSuchKey"), (409, "BucketNotEmpty"),
                      (403, nil), (405, nil)] as [(Int, String?)])
    func clientErrorsAreNotRetried(_ status: Int, _ code: String?) {
        let d = S3ErrorMapping.disposition(status: status, error: Self.error(status, code), currentRegion: "us-east-1")
        guard case .fail = d else { Issue.record("expected fail: \(d)"); return }
    }

    @Test(arguments: [(301, "PermanentRedirect"), (400, "AuthorizationHeaderMalformed"), (301, nil)] as [(Int, String?)])
    func regionHintsAreFollowed(_ status: Int, _ code: String?) {
        let d = S3ErrorMapping.disposition(status: status, error: Self.error(status, code, region: "eu-west-1"),
                                           currentRegion: "us-east-1")
        #expect(d == .wrongRegion(region: "eu-west-1", Self.error(status, code, region: "eu-west-1")))
        let same = S3ErrorMapping.disposition(status: status, error: Self.error(status, code, region: "us-east-1"),
                                              currentRegion: "us-east-1")
        guard case .fail = same else { Issue.record("a hint naming the current region must not loop"); return }
    }

    @Test(arguments: [
        (403, "SignatureDoesNotMatch", "signature"), (403, "InvalidAccessKeyId", "AWS_ACCESS_KEY_ID"),
        (403, "AccessDenied", "permission denied"), (403, nil, "did not say whether the signature or the permission"),
        (404, "NoSuchBucket", "does not exist"), (403, "ExpiredToken", "AWS_SESSION_TOKEN"),
    ] as [(Int, String?, String)])
    func errorsSaySpecificallyWhatFailed(_ status: Int, _ code: String?, _ phrase: String) {
        let e = S3ErrorMapping.kopiaError(Self.error(status, code), blobID: "p0123", context: Self.context)
        #expect(e.code == .storageFailure)
        #expect(e.message.contains(phrase), "\(e.message)")
        #expect((e.cause as? S3ServiceError)?.code == code)
        #expect(e.retry == .permanent)
    }

    @Test func missingKeyNamesTheBlob() {
        let e = S3ErrorMapping.kopiaError(Self.error(404, "NoSuchKey"), blobID: "p0123-s1", context: Self.context)
        #expect(e.code == .blobNotFound && e.blobID == "p0123-s1")
        #expect(e.message.contains("repo/p0123-s1"))
        let head = S3ErrorMapping.kopiaError(Self.error(404, nil, op: .head), blobID: "q9", context: Self.context)
        #expect(head.code == .blobNotFound && head.blobID == "q9")
    }

    @Test func permissionErrorNamesTheIAMAction() {
        let e = S3ErrorMapping.kopiaError(Self.error(403, "AccessDenied", op: .put), blobID: "p1", context: Self.context)
        #expect(e.message.contains("s3:PutObject") && e.message.contains("s3://bucket/repo/p1"))
    }

    @Test func exhaustedRetriesAreTransient() {
        let e = S3ErrorMapping.kopiaError(Self.error(503, "SlowDown"), blobID: nil, context: Self.context,
                                          retriesExhausted: true)
        #expect(e.retry == .transient && e.message.contains("SlowDown"))
    }
}
