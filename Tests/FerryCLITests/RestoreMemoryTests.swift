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

    /// What the measuring parent saw: ferry's exit status and peak RSS, and the restored tree.
    struct Measured: Decodable {
        var status: Int32
        var maxRSSKiB: Int
        /// "tmpfs" or "disk" (where the tree was restored).
        var filesystem: String
        /// Regular files under the target, and the directories holding a number of them other than expected.
        var files: Int
        var unevenDirectories: [String]
        /// The bytes of the last file (`g…/d…/f…` with the highest numbers).
        var lastFile: String
    }

    /// Restores into `target` and measures, through a small Python parent: `posix_spawn` starts the child with
    /// `vfork`, and Linux records the high-water RSS of the memory the child leaves at `exec` in its
    /// `ru_maxrss` — this test process's own peak (hundreds of MiB while other suites run) would be charged to
    /// `ferry`.
    ///
    /// As root, the parent runs in a private mount namespace (`unshare --mount`) and restores into a tmpfs
    /// mounted there: creating 200,000 files on this disk took 24–276 s under load (and more for minutes after
    /// mass deletions, ext4's `recently_deleted()`), on tmpfs a few seconds; the namespace's end unmounts it, so
    /// nothing is left to delete. ferry does exactly the same work (every file created, written, its metadata
    /// set; tmpfs pages are not part of its RSS). Elsewhere, the restore goes to the disk.
    /// The parent then walks the whole restored tree.
    static func runMeasured(target: String, lastFile: String, environment: [String: String]) throws -> Measured {
        let script = """
            import json, os, subprocess, sys
            target, expected, last, argv = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
            os.makedirs(target, exist_ok=True)
            fs = "disk"
            if os.environ.get("FERRY_MEMORY_TEST_NAMESPACE") == "1":
                subprocess.run(["mount", "--make-rprivate", "/"], check=True)
                subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4g,mode=0755", "ferry-memory-test", target],
                               check=True)
                fs = "tmpfs"
            p = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
            _, status, usage = os.wait4(p.pid, 0)
            files, uneven = 0, []
            for d, dirs, names in os.walk(target):
                files += len(names)
                if names and len(names) != expected:
                    uneven.append(os.path.relpath(d, target))
            try:
                with open(os.path.join(target, last)) as f:
                    text = f.read()
            except OSError as e:
                text = str(e)
            print(json.dumps({"status": os.waitstatus_to_exitcode(status), "maxRSSKiB": usage.ru_maxrss,
                              "filesystem": fs, "files": files, "unevenDirectories": uneven[:20],
                              "lastFile": text}))
            """
        let process = Process()
        let args = ["python3", "-c", script, target, String(filesPerDirectory), lastFile, FerryProcess.binary.path,
                    "restore", "--target", target, "--json"]
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("KOPIA_") }
        env.merge(environment) { $1 }
        if getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
            process.arguments = ["--mount", "--"] + ["/usr/bin/env"] + args
            env["FERRY_MEMORY_TEST_NAMESPACE"] = "1"
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = args
        }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw POSIXError(.EIO)
        }
        return try JSONDecoder().decode(Measured.self, from: out)
    }

    @Test(.timeLimit(.minutes(10)))
    func restoringTwoHundredThousandFilesStaysUnder160MiB() async throws {
        // FERRY_MEMORY_TEST_KEEP=DIR keeps the repository in DIR (for measuring by hand).
        let keep = ProcessInfo.processInfo.environment["FERRY_MEMORY_TEST_KEEP"]
        let dir = keep ?? FileManager.default.temporaryDirectory.appendingPathComponent("ferry-memory-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { if keep == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let files = try await Self.makeRepository(at: dir + "/repo")
        #expect(files == Self.groups * Self.directoriesPerGroup * Self.filesPerDirectory)
        #expect(Self.groups == 20 || ProcessInfo.processInfo.environment["FERRY_MEMORY_TEST_GROUPS"] != nil)
        let env = ["KOPIA_REPOSITORY": "filesystem://" + dir + "/repo", "KOPIA_PASSWORD": "pw"]
        let last = Self.groups * Self.directoriesPerGroup * Self.filesPerDirectory - 1
        let lastPath = String(format: "g%03d/d%03d/f%05d", Self.groups - 1, Self.directoriesPerGroup - 1,
                              Self.filesPerDirectory - 1)
        let m = try Self.runMeasured(target: dir + "/out", lastFile: lastPath, environment: env)
        print("restore of \(files) files into \(m.filesystem): peak RSS \(m.maxRSSKiB / 1024) MiB")
        #expect(m.status == 0)
        #expect(m.maxRSSKiB <= Self.limitKiB, "peak RSS \(m.maxRSSKiB / 1024) MiB, limit \(Self.limitKiB / 1024) MiB")
        // The tree is really there: every file, every directory holding all its files, the last one's bytes.
        #expect(m.files == files)
        #expect(m.unevenDirectories.isEmpty, "\(m.unevenDirectories)")
        #expect(m.lastFile == "content \(last % Self.distinctContents) of the memory test\n")
    }
}
