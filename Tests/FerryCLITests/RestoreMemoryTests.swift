import Foundation
import Kopia
import KopiaTestSupport
import Logging
import Testing

/// `ferry restore` memory does not grow with the number of files (issue 16): a generated snapshot of 200,000
/// files in 420 directories is restored by the real binary in a child process whose peak RSS (`wait4`'s
/// `ru_maxrss`) must stay under 160 MiB. Before windowed restores, planning the whole tree first held about
/// 1 KB per file (≈ 210 MiB at 100,000 files).
struct RestoreMemoryTests {
    /// `FERRY_MEMORY_TEST_GROUPS` makes the tree smaller (for measuring by hand); the test asserts 200,000.
    static let groups = ProcessInfo.processInfo.environment["FERRY_MEMORY_TEST_GROUPS"].flatMap { Int($0) } ?? 20
    static let directoriesPerGroup = 20
    static let filesPerDirectory = 500
    static let limitKiB = 160 * 1024

    /// Distinct file contents: files cycle through them, so writing the repository costs little next to the
    /// restore, which still writes every file.
    static let distinctContents = 4096

    /// Writes the snapshot with the library (no source tree on disk).
    static func makeRepository(at path: String) async throws -> Int {
        var options = RepositoryCreateOptions()
        options.keyAlgorithm = "pbkdf2-sha256-600000"
        _ = try await RepositoryCreator.createFilesystem(at: path, password: "pw", options: options)
        let writer = try await RepositoryWriter.open(storage: try FilesystemStorage(root: path), password: "pw",
                                                     logger: Logger(label: "test.memory"))
        let session = try writer.session()
        let t = KopiaTime(seconds: 1_700_000_000, nanoseconds: 5)
        let fileMode = FilePermissions(rawValue: 0o644)
        let dirMode = FilePermissions(rawValue: 0o755)
        var bodies: [(ObjectID, Int64)] = []
        for k in 0..<distinctContents {
            let body = Array("content \(k) of the memory test\n".utf8)
            bodies.append((ObjectID(contentID: try await session.contents.write(body)), Int64(body.count)))
        }
        var groupEntries: [DirectoryEntry] = []
        var n = 0
        for g in 0..<groups {
            var dirEntries: [DirectoryEntry] = []
            for d in 0..<directoriesPerGroup {
                var files: [DirectoryEntry] = []
                files.reserveCapacity(filesPerDirectory)
                for f in 0..<filesPerDirectory {
                    let (id, size) = bodies[n % bodies.count]
                    n += 1
                    files.append(DirectoryEntry(name: String(format: "f%05d", f), type: .file, permissions: fileMode,
                                                size: size, modified: t, objectID: id))
                }
                let summary = WriteSession.summarize(files, ownModified: t)
                let id = try await session.writeDirectory(files, summary: summary)
                dirEntries.append(DirectoryEntry(name: String(format: "d%03d", d), type: .directory,
                                                 permissions: dirMode, modified: t, objectID: id, summary: summary))
            }
            let summary = WriteSession.summarize(dirEntries, ownModified: t)
            let id = try await session.writeDirectory(dirEntries, summary: summary)
            groupEntries.append(DirectoryEntry(name: String(format: "g%03d", g), type: .directory, permissions: dirMode,
                                               modified: t, objectID: id, summary: summary))
        }
        let summary = WriteSession.summarize(groupEntries, ownModified: t)
        let rootID = try await session.writeDirectory(groupEntries, summary: summary)
        let root = DirectoryEntry(name: "data", type: .directory, permissions: dirMode, modified: t, objectID: rootID,
                                  summary: summary)
        _ = try await session.commitSnapshot(root: root, source: SnapshotSource(userName: "u", host: "h", path: "/data"))
        return n
    }

    /// Runs `ferry args…` and returns its exit status and peak RSS in KiB, measured with `wait4`.
    ///
    /// Through a small Python parent, not from this process: `posix_spawn` starts the child with `vfork`, and
    /// Linux records the high-water RSS of the memory the child leaves at `exec` in its `ru_maxrss` — this test
    /// process's own peak (hundreds of MiB while other suites run) would be charged to `ferry`.
    static func runMeasured(_ args: [String], environment: [String: String]) throws -> (status: Int32, maxRSSKiB: Int) {
        let script = """
            import os, subprocess, sys
            p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
            _, status, usage = os.wait4(p.pid, 0)
            print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, FerryProcess.binary.path] + args
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("KOPIA_") }
        env.merge(environment) { $1 }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let fields = out.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard process.terminationStatus == 0, fields.count == 2 else {
            throw POSIXError(.EIO)
        }
        return (Int32(fields[0]), fields[1])
    }

    @Test(.timeLimit(.minutes(10)))
    func restoringTwoHundredThousandFilesStaysUnder160MiB() async throws {
        // FERRY_MEMORY_TEST_KEEP=DIR keeps repository and restored tree in DIR (for measuring by hand).
        let keep = ProcessInfo.processInfo.environment["FERRY_MEMORY_TEST_KEEP"]
        let dir = keep ?? FileManager.default.temporaryDirectory.appendingPathComponent("ferry-memory-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { if keep == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let files = try await Self.makeRepository(at: dir + "/repo")
        #expect(files == Self.groups * Self.directoriesPerGroup * Self.filesPerDirectory)
        #expect(Self.groups == 20 || ProcessInfo.processInfo.environment["FERRY_MEMORY_TEST_GROUPS"] != nil)
        let env = ["KOPIA_REPOSITORY": "filesystem://" + dir + "/repo", "KOPIA_PASSWORD": "pw"]
        let (status, rss) = try Self.runMeasured(["restore", "--target", dir + "/out", "--json"], environment: env)
        print("restore of \(files) files: peak RSS \(rss / 1024) MiB")
        #expect(status == 0)
        #expect(rss <= Self.limitKiB, "peak RSS \(rss / 1024) MiB, limit \(Self.limitKiB / 1024) MiB")
        // The tree is really there: every directory holds all its files, and a sample has the right bytes.
        for g in [0, Self.groups - 1] {
            for d in [0, Self.directoriesPerGroup - 1] {
                let path = dir + "/out/" + String(format: "g%03d/d%03d", g, d)
                let names = try FileManager.default.contentsOfDirectory(atPath: path)
                #expect(names.count == Self.filesPerDirectory, "\(path)")
            }
        }
        let last = Self.groups * Self.directoriesPerGroup * Self.filesPerDirectory - 1
        let text = try String(contentsOfFile: dir + "/out/" + String(format: "g%03d/d%03d/f%05d", Self.groups - 1,
                                                                       Self.directoriesPerGroup - 1,
                                                                       Self.filesPerDirectory - 1), encoding: .utf8)
        #expect(text == "content \(last % Self.distinctContents) of the memory test\n")
    }
}
