import Foundation
import Kopia
import KopiaTestSupport
import Testing

/// Every repository command works with `gcs://` (and VolSync's `KOPIA_GCS_BUCKET`) as with a filesystem path,
/// against the real GCS emulator: written repositories restore byte-exact, and fixtures answer exactly as on disk.
struct GCSCLITests {
    static func bucket(_ server: FakeGCSServer, _ label: String) async throws -> String {
        let name = "\(label)-" + UUID().uuidString.lowercased().prefix(12)
        try await server.createBucket(name)
        return name
    }

    /// `ferry repo create` + `snapshot create` + `restore` + `verify` through `gcs://` (emulator, no token).
    @Test func snapshotCreateToGCSRestoresByteExactFromGCS() async throws {
        let server = try await FakeGCSServer.shared()
        let bucket = try await Self.bucket(server, "write")
        let work = try S3CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let source = work.appendingPathComponent("data")
        try S3CLITests.makeSampleTree(at: source)
        let env = ["KOPIA_REPOSITORY": "gcs://\(bucket)/team/app", "KOPIA_PASSWORD": "gcs-test-password",
                   "STORAGE_EMULATOR_HOST": server.emulatorHost]
        let create = try FerryProcess.run(["repo", "create", "--key-algorithm", "pbkdf2-sha256-600000"], environment: env)
        #expect(create.status == 0, "\(create.stderr)")
        let snap = try FerryProcess.run(["snapshot", "create", source.path, "--identity", "app@staging:/data"],
                                        environment: env)
        #expect(snap.status == 0, "\(snap.stderr)")
        let objects = try await server.objects(bucket: bucket, prefix: "team/app/")
        #expect(objects["team/app/kopia.repository"]?.contentType == "application/x-kopia", "kopia's layout")
        #expect(objects.keys.contains { $0.hasPrefix("team/app/p") } && objects.keys.contains { $0.hasPrefix("team/app/xn0_") })

        let target = work.appendingPathComponent("restored")
        let restore = try FerryProcess.run(["restore", "--identity", "app@staging:/data", "--target", target.path],
                                           environment: env)
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(try TreeListing.of(target) == TreeListing.of(source))
        let verify = try FerryProcess.run(["verify", "--identity", "app@staging:/data"], environment: env)
        #expect(verify.status == 0, "\(verify.stderr)")
    }

    /// VolSync's real Secret: `KOPIA_GCS_BUCKET` (repository at the bucket root) and the key JSON itself in
    /// `GOOGLE_APPLICATION_CREDENTIALS`, through a token-checking gateway. The listing and restore equal the disk's;
    /// the documented `KOPIA_REPOSITORY` URL loses with a warning; no key or token is printed.
    @Test func volSyncSecretWithBucketKeyAndKeyJSONRestoresLikeDisk() async throws {
        let server = try await FakeGCSServer.shared()
        let gateway = try await GCSAuthGateway.start(upstream: server)
        defer { gateway.stop() }
        let work = try S3CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        for name in ["fs-default", "fs-multichunk"] {
            let bucket = try await Self.bucket(server, "volsync")
            _ = try await server.uploadRepository(at: Fixtures.kopia(name), bucket: bucket, prefix: "")
            let keyJSON = try String(contentsOfFile: gateway.keyPath, encoding: .utf8)
            let env = ["KOPIA_GCS_BUCKET": bucket, "KOPIA_REPOSITORY": "gcs://\(bucket)/ignored-path",
                       "GOOGLE_APPLICATION_CREDENTIALS": keyJSON, "KOPIA_PASSWORD": Fixtures.password]
            let list = try FerryProcess.run(["snapshot", "list", "--json", "--gcs-endpoint", gateway.endpoint],
                                            environment: env)
            let disk = try FerryProcess.run(["snapshot", "list", "--json"], environment: FerryProcess.fixtureEnvironment(name))
            #expect(list.status == 0, "\(name): \(list.stderr)")
            #expect(list.stdout == disk.stdout && !list.stdout.isEmpty, "\(name)")
            #expect(list.stderr.contains("KOPIA_GCS_BUCKET") && list.stderr.contains("ignored-path"), "\(list.stderr)")

            let fromGCS = work.appendingPathComponent("\(name)-gcs"), fromDisk = work.appendingPathComponent("\(name)-disk")
            let a = try FerryProcess.run(["restore", "--no-owner", "--target", fromGCS.path, "--gcs-endpoint", gateway.endpoint],
                                         environment: env)
            let b = try FerryProcess.run(["restore", "--no-owner", "--target", fromDisk.path],
                                         environment: FerryProcess.fixtureEnvironment(name))
            #expect(a.status == 0 && b.status == 0, "\(name): \(a.stderr)")
            #expect(try TreeListing.of(fromGCS) == TreeListing.of(fromDisk) && !(try TreeListing.of(fromGCS)).isEmpty)
            let keyLine = gateway.key.privateKeyPEM.split(separator: "\n").dropFirst().first.map(String.init) ?? "?"
            for text in [list.stdout, list.stderr, a.stdout, a.stderr] {
                #expect(!text.contains(keyLine) && !text.contains("ya29."), "secrets printed")
            }
        }
        #expect(try await gateway.stats()["forwarded", default: 0] > 0)
    }

    @Test func aWrongKeyIsNamedAndNothingSecretIsPrinted() async throws {
        let server = try await FakeGCSServer.shared()
        let gateway = try await GCSAuthGateway.start(upstream: server)
        defer { gateway.stop() }
        let bucket = try await Self.bucket(server, "wrong")
        let other = try gateway.otherKey()
        let keyJSON = try String(data: JSONSerialization.data(withJSONObject: [
            "type": "service_account", "client_email": other.clientEmail, "private_key": other.privateKeyPEM,
            "private_key_id": other.privateKeyID ?? "", "token_uri": other.tokenURI,
        ]), encoding: .utf8) ?? ""
        let result = try FerryProcess.run(["snapshot", "list", "--gcs-endpoint", gateway.endpoint], environment: [
            "KOPIA_REPOSITORY": "gcs://\(bucket)", "KOPIA_PASSWORD": "x", "GOOGLE_APPLICATION_CREDENTIALS": keyJSON,
        ])
        #expect(result.status != 0)
        #expect(result.stderr.contains("invalid_grant") && result.stderr.contains(other.clientEmail), "\(result.stderr)")
        let keyLine = other.privateKeyPEM.split(separator: "\n").dropFirst().first.map(String.init) ?? "?"
        #expect(!result.stderr.contains(keyLine) && !result.stdout.contains(keyLine))
    }
}
