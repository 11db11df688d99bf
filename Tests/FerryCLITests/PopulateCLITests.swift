import Foundation
import Kopia
import KopiaTestSupport
import Logging
import Testing

/// `ferry populate`, the populator pod's command, run as a subprocess exactly as the pod runs it.
struct PopulateCLITests {
    static func tempDir(_ tag: String = "populate") throws -> String {
        let path = NSTemporaryDirectory() + "ferry-\(tag)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func report(_ path: String) throws -> [String: Any] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let fixture: String
        let index: Int
        let id: String
        var testDescription: String { "\(fixture) \(id)" }
    }

    static let byteExactCases: [Case] = ["fs-multichunk", "fs-zstd-chacha"].flatMap { name -> [Case] in
        guard let m = try? FixtureManifest.load(name) else { return [] }
        return m.snapshots.enumerated().map { Case(fixture: name, index: $0.offset, id: $0.element.id) }
    }

    @Test func everySnapshotOfTheByteExactFixturesIsListed() {
        #expect(Self.byteExactCases.count == 4)
    }

    @Test(arguments: byteExactCases)
    func populateRestoresEverySnapshotByteExact(_ c: Case) async throws {
        let expected = try FixtureManifest.load(c.fixture).snapshots[c.index]
        let target = try Self.tempDir()
        let reportPath = target + ".report"
        defer { try? FileManager.default.removeItem(atPath: target); try? FileManager.default.removeItem(atPath: reportPath) }
        let r = try FerryProcess.run(["populate", "--snapshot", c.id, "--target", target, "--report", reportPath, "--verify"],
                                     environment: FerryProcess.fixtureEnvironment(c.fixture))
        #expect(r.status == 0, "\(r.stderr)")
        let report = try Self.report(reportPath)
        #expect(report["state"] as? String == "succeeded")
        #expect(report["snapshotID"] as? String == c.id)
        #expect(report["verified"] as? Bool == true)
        #expect(report["identity"] as? String == expected.identity)
        // Every line of stdout is one JSON report; the first says which snapshot was resolved.
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.first?.contains("\"state\":\"resolved\"") == true)
        #expect(lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil })

        // sha256 (sha256sum), modes, sizes, symlink targets: as MANIFEST.md lists them.
        var want: [String] = []
        for e in expected.entries {
            let mode = String(e.mode, radix: 8)
            switch e.type {
            case "d": want.append("d \(mode) \(e.path)")
            case "l": want.append("l 777 \(e.path) -> \(e.target ?? "")")
            default: want.append("f \(mode) \(e.size ?? -1) \(e.sha256 ?? "") \(e.path)")
            }
        }
        #expect(try TreeListing.of(URL(fileURLWithPath: target)) == want.sorted())
        // mtimes to the nanosecond, against the repository's own entries.
        try await Self.expectMTimes(fixture: c.fixture, snapshotID: c.id, target: target)
    }

    static func expectMTimes(fixture: String, snapshotID: String, target: String) async throws {
        let repo = try await KopiaRepository.open(storage: try FilesystemStorage(root: Fixtures.kopia(fixture).path),
                                                  password: Fixtures.password, logger: Logger(label: "test"))
        let snapshot = try repo.select(.id(snapshotID))
        var pending: [(DirectoryEntry, String)] = [(snapshot.rootEntry, target)]
        var checked = 0
        while let (entry, path) = pending.popLast() {
            var st = stat()
            #expect(lstat(path, &st) == 0, "\(path)")
            if entry.type != .symlink {
                #expect(Int64(st.st_mtim.tv_sec) == entry.modified.seconds, "\(path) mtime seconds")
                #expect(Int32(st.st_mtim.tv_nsec) == entry.modified.nanoseconds, "\(path) mtime nanoseconds")
                checked += 1
            }
            if entry.type == .directory {
                for child in try await repo.directory(entry).entries { pending.append((child, path + "/" + child.name)) }
            }
        }
        #expect(checked > 3)
    }

    @Test func aKilledPopulateResumesAndTheDataIsExact() async throws {
        let fixture = "fs-multichunk"
        let expected = try FixtureManifest.load(fixture).snapshots[0]
        let target = try Self.tempDir()
        let reportPath = target + ".report"
        defer { try? FileManager.default.removeItem(atPath: target); try? FileManager.default.removeItem(atPath: reportPath) }
        let args = ["populate", "--snapshot", expected.id, "--target", target, "--report", reportPath,
                    "--parallel", "1", "--progress-interval", "0.02"]
        // First run: SIGKILL (what an evicted pod gets) once at least one file is complete.
        let process = Process()
        process.executableURL = FerryProcess.binary
        process.arguments = args
        process.environment = FerryProcess.fixtureEnvironment(fixture)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        var killed = false
        var buffer = Data()
        while process.isRunning {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            let text = String(decoding: buffer, as: UTF8.self)
            if text.split(separator: "\n").contains(where: { line in
                guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return false }
                return o["state"] as? String == "progress" && ((o["filesDone"] as? Int) ?? 0) >= 1
            }) {
                kill(process.processIdentifier, SIGKILL)
                killed = true
                break
            }
        }
        process.waitUntilExit()
        #expect(killed, "the first run finished before it could be interrupted")
        #expect(process.terminationReason == .uncaughtSignal)

        // Second run (the restarted pod): resumes, skips what is complete, ends byte-exact.
        let r = try FerryProcess.run(args, environment: FerryProcess.fixtureEnvironment(fixture))
        #expect(r.status == 0, "\(r.stderr)")
        let report = try Self.report(reportPath)
        #expect(report["state"] as? String == "succeeded")
        #expect(((report["filesSkipped"] as? Int) ?? 0) >= 1)
        var want: [String] = []
        for e in expected.entries {
            let mode = String(e.mode, radix: 8)
            switch e.type {
            case "d": want.append("d \(mode) \(e.path)")
            case "l": want.append("l 777 \(e.path) -> \(e.target ?? "")")
            default: want.append("f \(mode) \(e.size ?? -1) \(e.sha256 ?? "") \(e.path)")
            }
        }
        #expect(try TreeListing.of(URL(fileURLWithPath: target)) == want.sorted())
        try await Self.expectMTimes(fixture: fixture, snapshotID: expected.id, target: target)
    }

    @Test func aWrongPasswordFailsWithAReportNamingIt() throws {
        let target = try Self.tempDir()
        let reportPath = target + ".report"
        defer { try? FileManager.default.removeItem(atPath: target); try? FileManager.default.removeItem(atPath: reportPath) }
        var env = FerryProcess.fixtureEnvironment("fs-zstd-chacha")
        env["KOPIA_PASSWORD"] = "not-the-password"
        let r = try FerryProcess.run(["populate", "--target", target, "--report", reportPath], environment: env)
        #expect(r.status == 3)
        let report = try Self.report(reportPath)
        #expect(report["state"] as? String == "failed")
        #expect(report["reason"] as? String == "WrongPassword")
        #expect((report["message"] as? String)?.lowercased().contains("password") == true)
        #expect(!(report["message"] as? String ?? "").contains("not-the-password"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: target).isEmpty)
    }

    @Test func aSnapshotThatIsGoneFailsWithSnapshotGone() throws {
        let target = try Self.tempDir()
        let reportPath = target + ".report"
        defer { try? FileManager.default.removeItem(atPath: target); try? FileManager.default.removeItem(atPath: reportPath) }
        // a60041a1… was deleted from fs-identities (MANIFEST.md).
        let r = try FerryProcess.run(["populate", "--snapshot", "a60041a147b8a8e60378dd83a857aa35", "--target", target,
                                      "--report", reportPath], environment: FerryProcess.fixtureEnvironment("fs-identities"))
        #expect(r.status == 4)
        let report = try Self.report(reportPath)
        #expect(report["reason"] as? String == "SnapshotGone")
        #expect((report["message"] as? String)?.contains("a60041a147b8a8e60378dd83a857aa35") == true)
    }

    @Test func damagedDataFailsTheRunAndNamesFileAndPack() throws {
        let copy = try Fixtures.temporaryCopy(of: "fs-zstd-chacha")
        defer { try? FileManager.default.removeItem(at: copy) }
        let fm = FileManager.default
        let walker = try #require(fm.enumerator(atPath: copy.path + "/p"))
        while let rel = walker.nextObject() as? String {
            guard rel.hasSuffix(".f") else { continue }
            let url = copy.appendingPathComponent("p/" + rel)
            var bytes = try [UInt8](Data(contentsOf: url))
            for i in stride(from: 64, to: bytes.count, by: 512) { bytes[i] ^= 0xFF }
            try Data(bytes).write(to: url)
        }
        let target = try Self.tempDir()
        let reportPath = target + ".report"
        defer { try? FileManager.default.removeItem(atPath: target); try? FileManager.default.removeItem(atPath: reportPath) }
        let id = try FixtureManifest.load("fs-zstd-chacha").snapshots[0].id
        let r = try FerryProcess.run(["populate", "--snapshot", id, "--target", target, "--report", reportPath],
                                     environment: ["KOPIA_REPOSITORY": "filesystem://" + copy.path, "KOPIA_PASSWORD": Fixtures.password])
        #expect(r.status == 5)
        let report = try Self.report(reportPath)
        #expect(report["state"] as? String == "failed")
        #expect(report["reason"] as? String == "DamagedRepository")
        #expect((report["message"] as? String)?.contains("blob p") == true)
    }

    @Test func aVolumeSmallerThanTheSnapshotIsRefusedBeforeWriting() throws {
        let target = try Self.tempDir("small-volume")
        let reportPath = target + ".report"
        defer { try? FileManager.default.removeItem(atPath: target); try? FileManager.default.removeItem(atPath: reportPath) }
        // A 1 MiB tmpfs stands in for a small volume (the tests run as root, as the populator pod does).
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=1m", "tmpfs", target]
        try mount.run()
        mount.waitUntilExit()
        try #require(mount.terminationStatus == 0, "mount tmpfs needs root")
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = [target]
            try? umount.run()
            umount.waitUntilExit()
        }
        let id = try FixtureManifest.load("fs-multichunk").snapshots[0].id
        let r = try FerryProcess.run(["populate", "--snapshot", id, "--target", target, "--report", reportPath],
                                     environment: FerryProcess.fixtureEnvironment("fs-multichunk"))
        #expect(r.status == 8)
        let report = try Self.report(reportPath)
        #expect(report["reason"] as? String == "VolumeTooSmall")
        #expect((report["message"] as? String)?.contains("volume too small") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: target).isEmpty)
    }
}
