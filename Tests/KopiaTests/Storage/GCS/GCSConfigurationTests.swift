import Foundation
import Testing
@testable import Kopia

/// `gcs://` parsing, VolSync's mover keys (kopia-format.md §18.6) and credentials from the environment.
struct GCSConfigurationTests {
    @Test(arguments: [
        ("gcs://bucket", "bucket", ""), ("gcs://bucket/", "bucket", ""), ("gcs://bucket/backups", "bucket", "backups/"),
        ("gcs://my-bucket//a//b/", "my-bucket", "a/b/"), ("gs://b_1.x/p", "b_1.x", "p/"),
    ])
    func gcsURLsParseIntoBucketAndNormalisedPrefix(_ text: String, _ bucket: String, _ prefix: String) throws {
        #expect(try GCSLocation.parse(text) == GCSLocation(bucket: bucket, prefix: prefix))
        #expect(try RepositoryLocation(parsing: text) == .gcs(bucket: bucket, prefix: prefix))
    }

    @Test(arguments: ["gcs://", "gcs://Upper", "gcs://ab", "gcs://user:secret@bucket/p", "gcs://bucket:443/p",
                      "gcs://-bad/p"])
    func malformedGCSURLsAreRefusedClearly(_ text: String) {
        let error = #expect(throws: KopiaError.self) { _ = try GCSLocation.parse(text) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("secret") == false)
    }

    /// Which repository wins when VolSync's mover keys and KOPIA_REPOSITORY disagree (README, "GCS and Azure").
    @Test func moverBucketKeyWinsOverTheURLAndWarns() throws {
        let both = try RepositoryLocation.resolve(explicit: nil, environment: [
            "KOPIA_REPOSITORY": "gcs://docs-bucket/backups", "KOPIA_GCS_BUCKET": "mover-bucket",
        ])
        #expect(both.location == .gcs(bucket: "mover-bucket", prefix: ""))
        #expect(both.warnings.count == 1 && both.warnings[0].contains("KOPIA_GCS_BUCKET")
            && both.warnings[0].contains("gcs://docs-bucket/backups"))
        let onlyKey = try RepositoryLocation.resolve(explicit: nil, environment: ["KOPIA_GCS_BUCKET": "b1c"])
        #expect(onlyKey.location == .gcs(bucket: "b1c", prefix: "") && onlyKey.warnings.isEmpty)
        let same = try RepositoryLocation.resolve(explicit: nil, environment: [
            "KOPIA_REPOSITORY": "gcs://b1c", "KOPIA_GCS_BUCKET": "b1c",
        ])
        #expect(same.warnings.isEmpty)
        // The mover's order: s3:// first, and --repo over everything.
        let s3 = try RepositoryLocation.resolve(explicit: nil, environment: [
            "KOPIA_REPOSITORY": "s3://s3-bucket/p", "KOPIA_GCS_BUCKET": "b1c",
        ])
        #expect(s3.location == .s3(bucket: "s3-bucket", prefix: "p/"))
        let flag = try RepositoryLocation.resolve(explicit: "gcs://flag-bucket/x", environment: ["KOPIA_GCS_BUCKET": "b1c"])
        #expect(flag.location == .gcs(bucket: "flag-bucket", prefix: "x/"))
        let none = #expect(throws: KopiaError.self) { _ = try RepositoryLocation.resolve(explicit: nil, environment: [:]) }
        #expect(none?.message.contains("KOPIA_GCS_BUCKET") == true)
    }

    static let keyJSON = """
        {"type":"service_account","project_id":"p","private_key_id":"abcdef0123456789","client_email":"sa@p.iam.gserviceaccount.com",
         "private_key":"-----BEGIN PRIVATE KEY-----\\nMIIsecretsecret\\n-----END PRIVATE KEY-----\\n","token_uri":"https://oauth2.googleapis.com/token"}
        """

    @Test func credentialsComeFromJSONContentOrAPathAndAreNeverPrinted() throws {
        let location = GCSLocation(bucket: "bkt", prefix: "")
        let fromJSON = try GCSConfiguration.resolve(location: location,
                                                    environment: ["GOOGLE_APPLICATION_CREDENTIALS": Self.keyJSON])
        guard case .serviceAccount(let key) = fromJSON.credentials else {
            Issue.record("no service account")
            return
        }
        #expect(key.clientEmail == "sa@p.iam.gserviceaccount.com" && key.tokenURI == "https://oauth2.googleapis.com/token")
        #expect(fromJSON.endpoint == GCSConfiguration.defaultEndpoint)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-gcs-key-\(UUID().uuidString).json")
        try Data(Self.keyJSON.utf8).write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        let fromPath = try GCSConfiguration.resolve(location: location,
                                                    environment: ["GOOGLE_APPLICATION_CREDENTIALS": path.path])
        #expect(fromPath.credentials == fromJSON.credentials)
        for text in ["\(fromJSON)", "\(key)", String(reflecting: key)] {
            #expect(!text.contains("MIIsecret") && !text.contains("PRIVATE KEY"), "\(text)")
        }
    }

    @Test func emulatorHostSendsNoTokenAndMissingCredentialsAreNamed() throws {
        let location = GCSLocation(bucket: "bkt")
        let emulator = try GCSConfiguration.resolve(location: location, environment: [
            "STORAGE_EMULATOR_HOST": "127.0.0.1:4443", "GOOGLE_APPLICATION_CREDENTIALS": Self.keyJSON,
        ])
        #expect(emulator.credentials == .none && "\(emulator.endpoint)" == "http://127.0.0.1:4443")
        let none = #expect(throws: KopiaError.self) { _ = try GCSConfiguration.resolve(location: location, environment: [:]) }
        #expect(none?.message.contains("GOOGLE_APPLICATION_CREDENTIALS") == true)
        let missing = #expect(throws: KopiaError.self) {
            _ = try GCSConfiguration.resolve(location: location,
                                             environment: ["GOOGLE_APPLICATION_CREDENTIALS": "/no/such/key.json"])
        }
        #expect(missing?.message.contains("/no/such/key.json") == true)
        let notJSON = #expect(throws: KopiaError.self) {
            _ = try GCSConfiguration.resolve(location: location,
                                             environment: ["GOOGLE_APPLICATION_CREDENTIALS": "{\"private_key\": \"MIIsecret"])
        }
        #expect(notJSON?.message.contains("not valid JSON") == true && notJSON?.message.contains("MIIsecret") == false)
        let user = #expect(throws: KopiaError.self) {
            _ = try GCSConfiguration.resolve(location: location,
                                             environment: ["GOOGLE_APPLICATION_CREDENTIALS": "{\"type\":\"authorized_user\"}"])
        }
        #expect(user?.message.contains("authorized_user") == true)
    }

    @Test func objectResourcesReadSizeTimeAndKopiaMtime() throws {
        let plain = try GCSObjectResource.parse(Array(#"{"name":"p/x","size":"11","timeCreated":"2026-12-04T23:16:13.793964Z"}"#.utf8))
        #expect(plain.size == 11 && plain.name == "p/x")
        #expect(abs((plain.modified?.timeIntervalSince1970 ?? 0) - 1796426173.793964) < 1e-3)
        // kopia's timestampmeta example: 1577934245000000000 ns = 2020-01-02T03:04:05Z.
        let mtime = try GCSObjectResource.parse(Array(#"{"name":"x","size":"0","timeCreated":"2026-12-04T23:16:13Z","metadata":{"Kopia-Mtime":"1577934245000000000"}}"#.utf8))
        #expect(mtime.modified == Date(timeIntervalSince1970: 1_577_934_245))
        let page = try GCSObjectResource.parsePage(Array(#"{"items":[{"name":"a","size":"1"}],"nextPageToken":"tok"}"#.utf8))
        #expect(page.objects.map(\.name) == ["a"] && page.nextPageToken == "tok")
        #expect(try GCSObjectResource.parsePage(Array("{}".utf8)).objects.isEmpty)
        for bad in ["", "[]", #"{"items":[{"size":"1"}]}"#, #"{"name":"a","size":"-1"}"#, #"{"name":"a"}"#] {
            #expect(throws: KopiaError.self) {
                _ = try GCSObjectResource.parsePage(Array(bad.utf8))
                _ = try GCSObjectResource.parse(Array(bad.utf8))
            }
        }
    }

    @Test(arguments: [
        (200, false, "success"), (429, false, "retry"), (500, false, "retry"), (503, true, "retry"), (404, true, "fail"),
        (403, true, "fail"), (401, true, "reauthenticate"), (401, false, "fail"), (412, true, "fail"),
    ])
    func statusesMapToRetryDecisions(_ status: Int, _ sentToken: Bool, _ expected: String) {
        let e = GCSServiceError(status: status, operation: .get, url: "http://x/")
        let got: String = switch GCSErrorMapping.disposition(status: status, error: e, sentToken: sentToken) {
        case .success: "success"
        case .retry: "retry"
        case .reauthenticate: "reauthenticate"
        case .fail: "fail"
        }
        #expect(got == expected)
    }
}
