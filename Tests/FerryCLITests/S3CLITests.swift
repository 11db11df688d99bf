import Foundation
import Kopia
import KopiaTestSupport
import Testing

/// Every repository command works with `s3://` exactly as with a filesystem path: each fixture is uploaded in
/// Kopia's S3 layout to a real S3 server (moto, on loopback) and the CLI's answers are compared with the
/// answers it gives for the same repository on disk.
struct S3CLITests {
    @Test func snapshotListFromS3EqualsTheListFromDisk() async throws {
        try await withMotoServer() { server in
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
        try await withMotoServer() { server in
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

    /// A tree written with `ferry repo create` + `ferry snapshot create` into S3 restores byte-exact from S3
    /// (contents, modes, symlinks, empty files and directories), and verifies.
    @Test func snapshotCreateToS3RestoresByteExactFromS3() async throws {
        try await withMotoServer() { server in
            try await server.createBucket("write")
            let work = try Self.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: work) }
            let source = work.appendingPathComponent("data")
            try Self.makeSampleTree(at: source)
            let env = Self.environment(server, repository: "s3://write/team/app/")
                .merging(["KOPIA_PASSWORD": "s3-test-password"]) { $1 }
            let create = try FerryProcess.run(["repo", "create", "--key-algorithm", "pbkdf2-sha256-600000"],
                                              environment: env)
            #expect(create.status == 0, "\(create.stderr)")
            let snap = try FerryProcess.run(["snapshot", "create", source.path, "--identity", "app@staging:/data"],
                                            environment: env)
            #expect(snap.status == 0, "\(snap.stderr)")
            let objects = try await server.objects(bucket: "write", prefix: "team/app/")
            #expect(objects["team/app/kopia.repository"] != nil, "kopia's S3 layout: prefix + blob ID")
            #expect(objects.keys.contains { $0.hasPrefix("team/app/p") })
            #expect(objects.keys.contains { $0.hasPrefix("team/app/xn0_") })

            let target = work.appendingPathComponent("restored")
            let restore = try FerryProcess.run(["restore", "--identity", "app@staging:/data", "--target", target.path],
                                               environment: env)
            #expect(restore.status == 0, "\(restore.stderr)")
            #expect(try TreeListing.of(target) == TreeListing.of(source))
            let verify = try FerryProcess.run(["verify", "--identity", "app@staging:/data"], environment: env)
            #expect(verify.status == 0, "\(verify.stderr)")
        }
    }

    /// With IAM authentication on (every request's SigV4 signature checked by moto), a repository under a prefix
    /// holding `/` is created, snapshotted, listed and restored: the LIST requests carry `prefix=volsync%2Fwebapp%2F…`
    /// in the signed canonical query (the bug report: `snapshot list` failed with SignatureDoesNotMatch).
    @Test func repositoryUnderSlashedPrefixWorksWithSignaturesChecked() async throws {
        let server = try await MotoServer.shared()
        try await server.createBucket("signed-slash")
        let work = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let source = work.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: source.appendingPathComponent("a/b"), withIntermediateDirectories: true)
        try Data("hello signed world\n".utf8).write(to: source.appendingPathComponent("a/b/greeting.txt"))
        try Data((0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: source.appendingPathComponent("blob.bin"))
        let env = Self.environment(server, repository: "s3://signed-slash/volsync/webapp")
            .merging(["KOPIA_PASSWORD": "signed-test-password"]) { $1 }
        let create = try FerryProcess.run(["repo", "create", "--key-algorithm", "pbkdf2-sha256-600000"],
                                          environment: env)
        #expect(create.status == 0, "\(create.stderr)")
        let snap = try FerryProcess.run(["snapshot", "create", source.path, "--identity", "web@prod:/data"],
                                        environment: env)
        #expect(snap.status == 0, "\(snap.stderr)")
        let list = try FerryProcess.run(["snapshot", "list"], environment: env)
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains("web@prod:/data"), "\(list.stdout)")
        #expect(!list.stderr.contains("SignatureDoesNotMatch"))
        let objects = try await server.objects(bucket: "signed-slash", prefix: "volsync/webapp/")
        #expect(objects["volsync/webapp/kopia.repository"] != nil)
        let target = work.appendingPathComponent("restored")
        let restore = try FerryProcess.run(["restore", "--identity", "web@prod:/data", "--target", target.path],
                                           environment: env)
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(try TreeListing.of(target) == TreeListing.of(source))
        // The reader key may list and read but not write: moto's policy check runs after the signature check.
        let readerEnv = env.merging(["AWS_ACCESS_KEY_ID": server.reader.accessKeyID,
                                     "AWS_SECRET_ACCESS_KEY": server.reader.secretAccessKey]) { $1 }
        let readerList = try FerryProcess.run(["snapshot", "list"], environment: readerEnv)
        #expect(readerList.status == 0, "\(readerList.stderr)")
        #expect(readerList.stdout == list.stdout)
    }

    /// The newest snapshot of a kopia-written fixture restores from S3 exactly as it restores from disk.
    @Test func fixtureRestoreFromS3EqualsRestoreFromDisk() async throws {
        try await withMotoServer() { server in
            try await server.createBucket("restore")
            let work = try Self.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: work) }
            for name in ["fs-default", "fs-multichunk"] {
                _ = try await server.uploadRepository(at: Fixtures.kopia(name), bucket: "restore", prefix: "\(name)/")
                let s3Env = Self.environment(server, repository: "s3://restore/\(name)/")
                    .merging(["KOPIA_PASSWORD": Fixtures.password]) { $1 }
                let fromS3 = work.appendingPathComponent("\(name)-s3")
                let fromDisk = work.appendingPathComponent("\(name)-disk")
                let a = try FerryProcess.run(["restore", "--no-owner", "--target", fromS3.path], environment: s3Env)
                let b = try FerryProcess.run(["restore", "--no-owner", "--target", fromDisk.path],
                                             environment: FerryProcess.fixtureEnvironment(name))
                #expect(a.status == 0, "\(name): \(a.stderr)")
                #expect(b.status == 0, "\(name): \(b.stderr)")
                let listing = try TreeListing.of(fromS3)
                #expect(!listing.isEmpty)
                #expect(listing == (try TreeListing.of(fromDisk)), "\(name)")
            }
        }
    }

    static func environment(_ server: MotoServer, repository: String) -> [String: String] {
        ["KOPIA_REPOSITORY": repository, "AWS_ACCESS_KEY_ID": server.admin.accessKeyID,
         "AWS_SECRET_ACCESS_KEY": server.admin.secretAccessKey, "AWS_S3_ENDPOINT": server.endpoint]
    }

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-s3cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func makeSampleTree(at root: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: root.appendingPathComponent("docs/deep/er"), withIntermediateDirectories: true)
        try fm.createDirectory(at: root.appendingPathComponent("empty-dir"), withIntermediateDirectories: true)
        var rng = SystemRandomNumberGenerator()
        let big = (0..<(6 << 20)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        try Data(big).write(to: root.appendingPathComponent("docs/random.bin"))
        try Data(String(repeating: "line of text\n", count: 50_000).utf8).write(to: root.appendingPathComponent("docs/deep/er/text.txt"))
        try Data().write(to: root.appendingPathComponent("empty-file"))
        try Data("#!/bin/sh\necho hi\n".utf8).write(to: root.appendingPathComponent("tool.sh"))
        try fm.setAttributes([.posixPermissions: 0o750], ofItemAtPath: root.appendingPathComponent("tool.sh").path)
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("link").path, withDestinationPath: "docs/random.bin")
    }
}

/// A comparable description of a tree: for every entry its relative path, type, permission bits, size,
/// symlink target and SHA-256 of the contents (via `sha256sum`, an independent implementation).
enum TreeListing {
    static func of(_ root: URL) throws -> [String] {
        let fm = FileManager.default
        guard let walker = fm.enumerator(atPath: root.path) else { return [] }
        var lines: [String] = []
        for case let rel as String in walker {
            let path = root.appendingPathComponent(rel).path
            let attrs = try fm.attributesOfItem(atPath: path)
            let type = attrs[.type] as? FileAttributeType
            let mode = String((attrs[.posixPermissions] as? Int) ?? -1, radix: 8)
            switch type {
            case .typeSymbolicLink?:
                lines.append("l \(mode) \(rel) -> \(try fm.destinationOfSymbolicLink(atPath: path))")
            case .typeDirectory?:
                lines.append("d \(mode) \(rel)")
            default:
                let size = (attrs[.size] as? Int) ?? -1
                lines.append("f \(mode) \(size) \(try sha256(path)) \(rel)")
            }
        }
        return lines.sorted()
    }

    static func sha256(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: out, as: UTF8.self).split(separator: " ").first.map(String.init) ?? "?"
    }
}
