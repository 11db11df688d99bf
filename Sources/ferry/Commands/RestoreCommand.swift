import ArgumentParser
import Foundation
import Kopia
import Logging

/// `ferry restore [selection] --target DIR [--parallel N] [--json] [--skip-existing] [--no-owner] [--sparse]
/// [--fail-fast]`: restore one snapshot into a local directory.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a snapshot into a directory: contents, modes, mtimes, symlinks, owners (as root).",
        discussion: """
            Only the snapshot's paths are created or replaced in the target; other files there are left alone.
            Files are written under temporary names and renamed into place when complete, so an interrupted
            restore never leaves a half-written file under its real name; re-run with --skip-existing to finish
            the job without rewriting completed files. Symlinks are created, never followed. A damaged content
            fails the files using it (listed with the pack blob); the rest is restored unless --fail-fast.
            Exit code 5 when any damaged data was found, 7 when other paths failed.

            """ + ExitCodes.help
    )

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var selection: SnapshotSelectionOptions

    @Option(help: ArgumentHelp("Directory to restore into (created if missing).", valueName: "DIR"))
    var target: String

    @Option(help: ArgumentHelp("Concurrent pack reads (default: twice the CPU count).", valueName: "N"))
    var parallel: Int?

    @Option(help: ArgumentHelp(
        "Bytes of pack ranges and decoded contents held at once, e.g. 96MiB (default 96 MiB, at least 1 MiB); the tree is restored in windows sized from it, so memory does not grow with the number of files.",
        valueName: "SIZE"))
    var memoryBudget: String?

    @Flag(help: "Print one JSON summary instead of text.")
    var json = false

    @Flag(help: "Skip files already present with the same size and mtime, and symlinks with the same target.")
    var skipExisting = false

    @Flag(help: "Do not restore file owners (owners are only restored when running as root).")
    var noOwner = false

    @Flag(help: "Leave runs of zero bytes as holes.")
    var sparse = false

    @Flag(help: "Stop at the first failed file.")
    var failFast = false

    @Flag(help: "Also re-hash every content (each is already authenticated by its AEAD tag; `ferry verify` re-hashes).")
    var checkHashes = false

    func validate() throws {
        if let parallel, parallel < 1 { throw ValidationError("--parallel must be at least 1") }
        if let memoryBudget, MemoryBudgetOption.bytes(memoryBudget) == nil {
            throw ValidationError("--memory-budget must be a size such as 96MiB, 512MiB or 1GiB (at least 1MiB)")
        }
        if target.isEmpty { throw ValidationError("--target must not be empty") }
    }

    func run() async throws {
        try await CommandFailure.run {
            FileLimits.raise()
            let selection = try selection.selection()
            let logger = Logger(label: "ferry")
            let repo = try await repository.open(logger: logger)
            let snapshot = try repo.select(selection)
            let options = RestoreOptions(parallelism: parallel,
                                         memoryBudget: memoryBudget.flatMap(MemoryBudgetOption.bytes) ?? 96 << 20,
                                         skipExisting: skipExisting, restoreOwnership: !noOwner, sparse: sparse,
                                         checkHashes: checkHashes, failFast: failFast)
            let progress = RestoreProgress()
            let bar = ProgressBar(progress: progress, verb: "restoring", enabled: !json)
            let start = Date()
            let result = try await SnapshotRestorer(repository: repo, options: options, logger: logger)
                .restore(snapshot.rootEntry, into: target, progress: progress)
            bar.finish()
            let seconds = Date().timeIntervalSince(start)
            if json {
                try JSONOutput.print(RestoreSummaryJSON(snapshot: snapshot, target: target, result: result,
                                                        seconds: seconds))
            } else {
                RestoreSummaryText.print(snapshot: snapshot, target: target, result: result, seconds: seconds)
            }
            try RestoreExit.check(failures: result.failures, stoppedEarly: result.stoppedEarly)
        }
    }
}

/// Process-wide settings for `restore` and `verify` (the executable owns process state; the engine never
/// touches it).
enum FileLimits {
    /// Raises the soft open-file limit to the hard limit (a restore keeps a descriptor per directory it works
    /// in), and caps glibc's malloc arenas at 2: each worker thread would otherwise get its own arena, which keeps
    /// freed pack-sized buffers, so peak RSS would grow with `--parallel` past the engine's memory budget.
    static func raise() {
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        mallopt(-8, 2)  // M_ARENA_MAX
    }

    /// For `snapshot create`: on top of ``raise()``, every allocation of 1 MiB or more (read buffers, chunks,
    /// sealed contents, pack buffers) is its own mapping, returned to the kernel when freed. glibc's default
    /// threshold rises to the largest block freed so far (up to 32 MiB), after which multi-megabyte chunks come
    /// from the heap and stay resident after use: 294 MiB peak instead of 227 MiB on the 1 GiB mixed tree
    /// (issue 16). Setting it also stops glibc's dynamic adjustment of the trim threshold (128 KiB stays).
    static func raiseForBackup() {
        raise()
        mallopt(-3, 1 << 20)  // M_MMAP_THRESHOLD
    }

    /// `mallopt(param, value)`; <malloc.h> is not part of Swift's Glibc module, so it is looked up.
    private static func mallopt(_ param: Int32, _ value: Int32) {
        #if canImport(Glibc)
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") {
            typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
            _ = unsafeBitCast(symbol, to: Mallopt.self)(param, value)
        }
        #endif
    }
}

/// The exit code of a restore or verify that ran to the end: 0, `damaged` (5) when any repository data was
/// damaged, else `partial` (7).
enum RestoreExit {
    static func check(failures: [RestoreResult.Failure], stoppedEarly: Bool) throws {
        guard !failures.isEmpty || stoppedEarly else { return }
        let stream = FileHandle.standardError
        for f in failures.prefix(100) {
            stream.write(Data("ferry: failed: \(TextEscaping.escape(f.description))\n".utf8))
        }
        if failures.count > 100 { stream.write(Data("ferry: … and \(failures.count - 100) more\n".utf8)) }
        throw ExitCode(failures.contains(where: \.isDamage) ? ExitCodes.damaged : ExitCodes.partial)
    }
}

/// One failed path in JSON summaries.
struct FailureJSON: Encodable {
    let path: String
    let error: String
    let code: String
    let blob: String?
    let content: String?

    init(_ f: RestoreResult.Failure) {
        path = f.path
        error = f.error.message
        code = f.error.code.description
        blob = f.error.blobID
        content = f.error.contentID
    }
}

/// `ferry restore --json`: one object.
struct RestoreSummaryJSON: Encodable {
    let snapshot: String
    let target: String
    let succeeded: Bool
    let directories: Int
    let files: Int
    let symlinks: Int
    let skipped: Int
    let bytes: Int64
    let packBytesRead: Int64
    let contentsRead: Int
    let seconds: Double
    let bytesPerSecond: Int64
    let stoppedEarly: Bool
    /// Seconds per phase (plan, directories, contents, symlinks, metadata).
    let phases: [String: Double]
    let failures: [FailureJSON]

    init(snapshot: SnapshotManifest, target: String, result: RestoreResult, seconds: Double) {
        self.snapshot = snapshot.id
        self.target = target
        succeeded = result.succeeded
        directories = result.directories
        files = result.files
        symlinks = result.symlinks
        skipped = result.skipped
        bytes = result.bytes
        packBytesRead = result.packBytesRead
        contentsRead = result.contentsRead
        self.seconds = (seconds * 1000).rounded() / 1000
        bytesPerSecond = seconds > 0 ? Int64(Double(result.bytes) / seconds) : 0
        stoppedEarly = result.stoppedEarly
        phases = Dictionary(result.phaseSeconds.map { ($0.phase, ($0.seconds * 1000).rounded() / 1000) }) { a, _ in a }
        failures = result.failures.map(FailureJSON.init)
    }
}

enum RestoreSummaryText {
    static func print(snapshot: SnapshotManifest, target: String, result: RestoreResult, seconds: Double) {
        let rate = seconds > 0 ? Int64(Double(result.bytes) / seconds) : 0
        var line = "restored snapshot \(snapshot.id) into \(target): \(result.files) files, \(result.directories) directories, "
        line += "\(result.symlinks) symlinks, \(ByteCount.format(result.bytes)) in \(String(format: "%.2f", seconds)) s "
        line += "(\(ByteCount.format(rate))/s)"
        if result.skipped > 0 { line += ", \(result.skipped) already present" }
        if !result.failures.isEmpty { line += ", \(result.failures.count) failed" }
        Swift.print(line)
    }
}

/// `--memory-budget SIZE`: a byte count with an optional binary or decimal unit (`96MiB`, `1GiB`, `500MB`,
/// `1048576`).
enum MemoryBudgetOption {
    static func bytes(_ text: String) -> Int? {
        let units: [(String, Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1000),
                                      ("MB", 1_000_000), ("GB", 1_000_000_000), ("K", 1 << 10), ("M", 1 << 20),
                                      ("G", 1 << 30), ("B", 1)]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var number = trimmed
        var scale = 1
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            number = String(trimmed.dropLast(suffix.count)).trimmingCharacters(in: .whitespaces)
            scale = factor
            break
        }
        guard let value = Int(number), value > 0 else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: scale)
        guard !overflow, bytes >= 1 << 20 else { return nil }
        return bytes
    }
}
