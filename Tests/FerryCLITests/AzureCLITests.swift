import Foundation
import Kopia
import KopiaTestSupport
import Testing

/// Every repository command works with `azure://` and with VolSync's mover keys, against the Azure test server that
/// checks Shared Key or SAS on every request; the SDK uploads fixtures and reads Ferry's repository back.
struct AzureCLITests {
    static func container(_ server: AzureBlobServer, _ label: String) async throws -> String {
        try await AzureStorageCLIHelper.container(server, label)
    }

    /// `ferry repo create` + `snapshot create` + `restore` + `verify` through `azure://` with kopia's variables.
    @Test func snapshotCreateToAzureRestoresByteExactFromAzure() async throws {
        let server = try await AzureBlobServer.shared()
        let container = try await Self.container(server, "write")
        let work = try S3CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let source = work.appendingPathComponent("data")
        try S3CLITests.makeSampleTree(at: source)
        let env = ["KOPIA_REPOSITORY": "azure://\(container)/team/app", "KOPIA_PASSWORD": "azure-test-password",
                   "AZURE_STORAGE_ACCOUNT": server.account, "AZURE_STORAGE_KEY": server.key,
                   "AZURE_STORAGE_DOMAIN": server.domain]
        let create = try FerryProcess.run(["repo", "create", "--key-algorithm", "pbkdf2-sha256-600000"], environment: env)
        #expect(create.status == 0, "\(create.stderr)")
        let snap = try FerryProcess.run(["snapshot", "create", source.path, "--identity", "app@staging:/data"],
                                        environment: env)
        #expect(snap.status == 0, "\(snap.stderr)")
        let blobs = try await server.blobs(container: container, prefix: "team/app/")
        #expect(blobs["team/app/kopia.repository"] != nil, "kopia's layout: prefix + blob ID")
        #expect(blobs.keys.contains { $0.hasPrefix("team/app/p") } && blobs.keys.contains { $0.hasPrefix("team/app/xn0_") })
        let target = work.appendingPathComponent("restored")
        let restore = try FerryProcess.run(["restore", "--identity", "app@staging:/data", "--target", target.path],
                                           environment: env)
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(try TreeListing.of(target) == TreeListing.of(source))
        let verify = try FerryProcess.run(["verify", "--identity", "app@staging:/data"], environment: env)
        #expect(verify.status == 0, "\(verify.stderr)")
        for r in [create, snap, restore, verify] {
            #expect(!r.stdout.contains(server.key) && !r.stderr.contains(server.key))
        }
    }

    /// VolSync's real Secret (`KOPIA_AZURE_CONTAINER`, `KOPIA_AZURE_STORAGE_ACCOUNT`, `KOPIA_AZURE_STORAGE_KEY`;
    /// repository at the container root) reads a fixture the SDK uploaded exactly as from disk; a SAS works too.
    @Test func volSyncSecretReadsAnSDKUploadedFixtureLikeDisk() async throws {
        let server = try await AzureBlobServer.shared()
        let work = try S3CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        for name in ["fs-default", "fs-multichunk"] {
            let container = try await Self.container(server, "volsync")
            _ = try await server.uploadRepository(at: Fixtures.kopia(name), container: container, prefix: "")
            let env = server.moverEnvironment(container: container)
                .merging(["KOPIA_PASSWORD": Fixtures.password, "KOPIA_REPOSITORY": "azure://\(container)/backups"]) { $1 }
            let list = try FerryProcess.run(["snapshot", "list", "--json"], environment: env)
            let disk = try FerryProcess.run(["snapshot", "list", "--json"], environment: FerryProcess.fixtureEnvironment(name))
            #expect(list.status == 0, "\(name): \(list.stderr)")
            #expect(list.stdout == disk.stdout && !list.stdout.isEmpty)
            #expect(list.stderr.contains("KOPIA_AZURE_CONTAINER"), "the URL's path loses, with a warning")
            let sas = try await server.sas(container: container, permission: "rl")
            var sasEnv = env
            sasEnv["AZURE_STORAGE_SAS_TOKEN"] = sas
            sasEnv["KOPIA_AZURE_STORAGE_KEY"] = nil
            let fromAzure = work.appendingPathComponent("\(name)-azure"), fromDisk = work.appendingPathComponent("\(name)-disk")
            let a = try FerryProcess.run(["restore", "--no-owner", "--target", fromAzure.path], environment: sasEnv)
            let b = try FerryProcess.run(["restore", "--no-owner", "--target", fromDisk.path],
                                         environment: FerryProcess.fixtureEnvironment(name))
            #expect(a.status == 0 && b.status == 0, "\(name): \(a.stderr)")
            #expect(try TreeListing.of(fromAzure) == TreeListing.of(fromDisk))
            let sig = sas.components(separatedBy: "sig=").last ?? sas
            for text in [list.stdout, list.stderr, a.stdout, a.stderr] {
                #expect(!text.contains(server.key) && !text.contains(sig))
            }
        }
    }

    @Test func aWrongKeyIsNamedAndNotPrinted() async throws {
        let server = try await AzureBlobServer.shared()
        let container = try await Self.container(server, "wrong")
        let wrong = Data(repeating: 3, count: 64).base64EncodedString()
        var env = server.moverEnvironment(container: container)
        env["KOPIA_AZURE_STORAGE_KEY"] = wrong
        env["KOPIA_PASSWORD"] = "x"
        let result = try FerryProcess.run(["snapshot", "list"], environment: env)
        #expect(result.status != 0)
        #expect(result.stderr.contains("AuthenticationFailed") && result.stderr.contains(server.account), "\(result.stderr)")
        #expect(!result.stderr.contains(wrong) && !result.stdout.contains(wrong))
    }
}

enum AzureStorageCLIHelper {
    static func container(_ server: AzureBlobServer, _ label: String) async throws -> String {
        let name = "\(label)-" + UUID().uuidString.lowercased().prefix(12)
        try await server.createContainer(name)
        return name
    }
}
