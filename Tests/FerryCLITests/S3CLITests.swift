import Foundation
import Kopia
import KopiaTestSupport
import Testing

/// Every repository command works with `s3://` exactly as with a filesystem path: each fixture is uploaded in
/// Kopia's S3 layout to a real S3 server (moto, on loopback) and the CLI's answers are compared with the
/// answers it gives for the same repository on disk.
struct S3CLITests {
    @Test func snapshotListFromS3EqualsTheListFromDisk() async throws {
        try await withMotoServer(authenticated: false) { server in
            try await server.createBucket("cli")
            for name in Fixtures.all {
                let prefix = "volsync/\(name)/"
                _ = try await server.uploadRepository(at: Fixtures.kopia(name), bucket: "cli", prefix: prefix)
                let s3Env = [
                    "KOPIA_REPOSITORY": "s3://cli/\(prefix)", "KOPIA_PASSWORD": Fixtures.password,
                    "AWS_ACCESS_KEY_ID": server.admin.accessKeyID, "AWS_SECRET_ACCESS_KEY": server.admin.secretAccessKey,
                    "AWS_S3_ENDPOINT": server.endpoint,
                ]
                let fromS3 = try FerryProcess.run(["snapshot", "list", "--json"], environment: s3Env)
                let fromDisk = try FerryProcess.run(["snapshot", "list", "--json"],
                                                    environment: FerryProcess.fixtureEnvironment(name))
                #expect(fromS3.status == 0, "\(name): \(fromS3.stderr)")
                #expect(fromDisk.status == 0)
                #expect(fromS3.stdout == fromDisk.stdout, "\(name)")
                #expect(!fromS3.stdout.isEmpty)
                // Secrets never reach the output.
                #expect(!fromS3.stdout.contains(server.admin.secretAccessKey))
                #expect(!fromS3.stderr.contains(server.admin.secretAccessKey))
            }
        }
    }

    @Test func aMissingBucketIsNamedAndExitsUnavailable() async throws {
        try await withMotoServer(authenticated: false) { server in
            let result = try FerryProcess.run(["snapshot", "list"], environment: [
                "KOPIA_REPOSITORY": "s3://no-such-bucket/p", "KOPIA_PASSWORD": "x",
                "AWS_ACCESS_KEY_ID": server.admin.accessKeyID, "AWS_SECRET_ACCESS_KEY": server.admin.secretAccessKey,
                "AWS_S3_ENDPOINT": server.endpoint,
            ])
            #expect(result.status != 0)
            #expect(result.stderr.contains("no-such-bucket"), "\(result.stderr)")
            #expect(!result.stderr.contains(server.admin.secretAccessKey))
        }
    }
}
