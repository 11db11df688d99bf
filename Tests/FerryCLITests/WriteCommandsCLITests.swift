import Foundation
import Testing

/// `ferry repo create`, `ferry snapshot create` and `ferry snapshot delete` end to end through the binary.
struct WriteCommandsCLITests {
    @Test func createSnapshotListAndDeleteThroughTheCLI() throws {
        let dir = NSTemporaryDirectory() + "ferry-cli-write-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/tree/sub", withIntermediateDirectories: true)
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: dir + "/tree/sub/a.txt"))
        try FileManager.default.createSymbolicLink(atPath: dir + "/tree/link", withDestinationPath: "sub/a.txt")
        let env = ["KOPIA_REPOSITORY": "filesystem://\(dir)/repo", "KOPIA_PASSWORD": "cli-pw"]

        let created = try FerryProcess.run(["repo", "create", "--key-algorithm", "pbkdf2-sha256-600000"], environment: env)
        #expect(created.status == 0, "stderr: \(created.stderr)")
        let again = try FerryProcess.run(["repo", "create"], environment: env)
        #expect(again.status != 0)
        #expect(again.stderr.contains("already exists"))

        let snap = try FerryProcess.run(["snapshot", "create", dir + "/tree", "--identity", "me@box:/tree", "--json",
                                         "--compression", "zstd", "--parallel", "2"], environment: env)
        #expect(snap.status == 0, "stderr: \(snap.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(snap.stdout.utf8)) as? [String: Any])
        let id = try #require(json["id"] as? String)
        #expect(json["files"] as? Int == 1)
        #expect(json["symlinks"] as? Int == 1)
        #expect(json["source"] as? String == "me@box:/tree")

        let list = try FerryProcess.run(["snapshot", "list", "--json"], environment: env)
        #expect(list.status == 0, "stderr: \(list.stderr)")
        #expect(list.stdout.contains(id))

        let deleted = try FerryProcess.run(["snapshot", "delete", id], environment: env)
        #expect(deleted.status == 0, "stderr: \(deleted.stderr)")
        let after = try FerryProcess.run(["snapshot", "list", "--json"], environment: env)
        #expect(!after.stdout.contains(id))
        let missing = try FerryProcess.run(["snapshot", "delete", id], environment: env)
        #expect(missing.status == 4)
    }
}
