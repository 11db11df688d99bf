import Testing
@testable import Kopia

struct S3ConfigurationTests {
    @Test(arguments: [
        ("s3://bucket", "bucket", ""), ("s3://bucket/", "bucket", ""), ("s3://bucket/repo", "bucket", "repo/"),
        ("s3://bucket/repo/", "bucket", "repo/"), ("s3://bucket//a//b", "bucket", "a/b/"),
        ("S3://my-bucket.example/x/y", "my-bucket.example", "x/y/"),
    ])
    func locationParsesLikeVolSync(_ url: String, _ bucket: String, _ prefix: String) throws {
        let l = try S3Location.parse(url)
        #expect(l.bucket == bucket && l.prefix == prefix)
    }

    @Test(arguments: ["s3://", "s3:///prefix", "s3://ab", "s3://Bucket", "s3://key:secret@bucket/x", "/tmp/repo",
                      "s3://bucket:9000/x", "s3://-bucket"])
    func badLocationsAreRejected(_ url: String) {
        #expect(throws: KopiaError(.invalidArgument, "")) { try S3Location.parse(url) }
    }

    @Test(arguments: [
        ("http://127.0.0.1:9000", S3Endpoint.Scheme.http, "127.0.0.1", 9000, "127.0.0.1:9000"),
        ("https://minio.example/", .https, "minio.example", nil, "minio.example"),
        ("minio.example:443", .https, "minio.example", 443, "minio.example"),
        ("http://[::1]:8080", .http, "::1", 8080, "[::1]:8080"),
    ] as [(String, S3Endpoint.Scheme, String, Int?, String)])
    func endpointsParse(_ text: String, _ scheme: S3Endpoint.Scheme, _ host: String, _ port: Int?, _ hostHeader: String) throws {
        let e = try S3Endpoint.parse(text)
        #expect(e.scheme == scheme && e.host == host && e.port == port && e.hostHeader == hostHeader)
    }

    @Test(arguments: ["ftp://h", "http://h/path", "http://u:p@h", "http://h:0", "http://h:x", "http://"])
    func badEndpointsAreRejected(_ text: String) {
        #expect(throws: KopiaError(.invalidArgument, "")) { try S3Endpoint.parse(text) }
    }

    @Test func environmentFillsEverythingAndFlagsWin() throws {
        let env = ["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "secret-env", "AWS_SESSION_TOKEN": "tok",
                   "AWS_REGION": "eu-west-1", "AWS_S3_ENDPOINT": "http://127.0.0.1:9000", "AWS_CA_BUNDLE": "/ca.pem"]
        let loc = try S3Location.parse("s3://bucket/repo")
        let c = try S3Configuration.resolve(location: loc, environment: env)
        #expect(c.region == "eu-west-1" && c.endpoint.hostHeader == "127.0.0.1:9000" && c.caFile == "/ca.pem")
        #expect(c.credentials == S3Credentials(accessKeyID: "AKIAENV", secretAccessKey: "secret-env", sessionToken: "tok"))
        #expect(c.addressingStyle == .path)
        let o = try S3Configuration.resolve(location: loc, environment: env, overrides: .init(
            endpoint: "https://s3.example:8443", region: "us-west-2", caFile: "/flag.pem", accessKeyID: "AKIAFLAG",
            secretAccessKey: "secret-flag"))
        #expect(o.region == "us-west-2" && o.endpoint.description == "https://s3.example:8443" && o.caFile == "/flag.pem")
        #expect(o.credentials?.accessKeyID == "AKIAFLAG" && o.credentials?.secretAccessKey == "secret-flag")
    }

    @Test func defaultsAreAWSInUSEast1() throws {
        let c = try S3Configuration.resolve(location: try S3Location.parse("s3://bucket/r"), environment: [:])
        #expect(c.region == "us-east-1" && c.endpoint.description == "https://s3.amazonaws.com")
        #expect(c.addressingStyle == .virtualHosted && c.credentials == nil)
        let dotted = try S3Configuration.resolve(location: try S3Location.parse("s3://a.b.c/r"),
                                                 environment: ["AWS_DEFAULT_REGION": "eu-central-1"])
        #expect(dotted.addressingStyle == .path && dotted.endpoint.host == "s3.eu-central-1.amazonaws.com")
    }

    @Test func halfACredentialIsAnErrorNamingTheMissingVariable() throws {
        let loc = try S3Location.parse("s3://bucket/r")
        do {
            _ = try S3Configuration.resolve(location: loc, environment: ["AWS_ACCESS_KEY_ID": "AKIAX"])
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("AWS_SECRET_ACCESS_KEY"))
            #expect(!error.message.contains("AKIAX"))
        }
    }

    @Test func printingNeverShowsSecrets() throws {
        let env = ["AWS_ACCESS_KEY_ID": "AKIAVERYSECRETID", "AWS_SECRET_ACCESS_KEY": "TOPSECRET", "AWS_SESSION_TOKEN": "TOKENX"]
        let c = try S3Configuration.resolve(location: try S3Location.parse("s3://bucket/r"), environment: env)
        for text in ["\(c)", String(describing: c.credentials), String(reflecting: c.credentials)] {
            #expect(!text.contains("TOPSECRET") && !text.contains("TOKENX") && !text.contains("AKIAVERYSECRETID"))
        }
    }

    @Test func retryDelaysGrowWithJitterAndAreCapped() {
        let p = S3RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(100), maxDelay: .seconds(1))
        var g = SystemRandomNumberGenerator()
        for attempt in 1...8 {
            let cap = p.ceiling(afterAttempt: attempt)
            for _ in 0..<20 {
                let d = p.delay(afterAttempt: attempt, using: &g)
                #expect(d >= cap / 2 && d <= cap)
            }
        }
        #expect(p.ceiling(afterAttempt: 1) == .milliseconds(100))
        #expect(p.ceiling(afterAttempt: 3) == .milliseconds(400))
        #expect(p.ceiling(afterAttempt: 8) == .seconds(1))
        #expect(p.allowsRetry(afterAttempt: 4) && !p.allowsRetry(afterAttempt: 5))
        #expect(!S3RetryPolicy.none.allowsRetry(afterAttempt: 1))
    }
}
