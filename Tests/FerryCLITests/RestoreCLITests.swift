import Foundation
import KopiaTestSupport
import Testing

/// `ferry restore` and `ferry verify` as a user runs them: flags, JSON summary, exit codes.
struct RestoreCLITests {
    static func tempDir() throws -> String {
        let path = NSTemporaryDirectory() + "ferry-cli-restore-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func restoreWithJSONPrintsOneSummaryAndExitsZero() throws {
        let target = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: target) }
        let r = try FerryProcess.run(["restore", "--snapshot", "f38543d1", "--target", target, "--json", "--parallel", "3"],
                                     environment: FerryProcess.fixtureEnvironment("fs-default"))
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(json["succeeded"] as? Bool == true)
        #expect(json["files"] as? Int == 18)
        #expect(json["symlinks"] as? Int == 2)
        #expect(json["snapshot"] as? String == "f38543d169177c8e75d5151f6b8ed16b")
        #expect((json["failures"] as? [Any])?.isEmpty == true)
        #expect(r.stderr.isEmpty, "nothing noisy when not on a terminal: \(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: target + "/new/dir/two.txt"))
    }

    @Test func restoreTakesTheSelectionFlagsOfSnapshotList() throws {
        let target = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: target) }
        let r = try FerryProcess.run(["restore", "--identity", "webapp-backup-production@production:/data",
                                      "--previous", "2", "--target", target],
                                     environment: FerryProcess.fixtureEnvironment("fs-default"))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("617e7b0f511bc1ecf4142c55931f299f"))
        // Snapshot 1 still has logs/old.log (deleted in v2).
        #expect(FileManager.default.fileExists(atPath: target + "/logs/old.log"))
    }

    @Test func damagedRepositoryExitsWithTheDamageCodeAndNamesTheFile() throws {
        let copy = try Fixtures.temporaryCopy(of: "fs-default")
        defer { try? FileManager.default.removeItem(at: copy) }
        // Damage every data pack: each file's contents fail authentication.
        let fm = FileManager.default
        let enumerator = try #require(fm.enumerator(atPath: copy.path + "/p"))
        while let rel = enumerator.nextObject() as? String {
            guard rel.hasSuffix(".f") else { continue }
            let url = copy.appendingPathComponent("p/" + rel)
            var bytes = try [UInt8](Data(contentsOf: url))
            for i in stride(from: 64, to: bytes.count, by: 512) { bytes[i] ^= 0xFF }
            try Data(bytes).write(to: url)
        }
        let env = ["KOPIA_REPOSITORY": "filesystem://" + copy.path, "KOPIA_PASSWORD": Fixtures.password]
        let target = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: target) }
        let r = try FerryProcess.run(["restore", "--snapshot", "617e7b0f", "--target", target], environment: env)
        #expect(r.status == 5, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("README.txt"))
        #expect(r.stderr.contains("blob p"))
        let v = try FerryProcess.run(["verify", "--snapshot", "617e7b0f", "--json"], environment: env)
        #expect(v.status == 5)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(v.stdout.utf8)) as? [String: Any])
        let damaged = try #require(json["damaged"] as? [[String: Any]])
        #expect(damaged.contains { $0["path"] as? String == "README.txt" && ($0["blob"] as? String)?.hasPrefix("p") == true })
    }

    @Test func verifyOfAnIntactFixtureSucceeds() throws {
        let r = try FerryProcess.run(["verify", "--snapshot", "566c0c2c"],
                                     environment: FerryProcess.fixtureEnvironment("fs-default"))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("no damage found"))
    }

    @Test(arguments: [["restore"], ["restore", "--target", "/tmp/x", "--parallel", "0"],
                      ["verify", "--percent", "101"]])
    func badFlagsAreUsageErrors(_ args: [String]) throws {
        let r = try FerryProcess.run(args, environment: FerryProcess.fixtureEnvironment("fs-default"))
        #expect(r.status == 2, "\(r.stderr)")
    }
}
