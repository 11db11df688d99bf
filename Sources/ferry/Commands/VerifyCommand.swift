import ArgumentParser
import Foundation
import Kopia
import Logging

/// `ferry verify [selection] [--percent P] [--json]`: read and authenticate what a snapshot references.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Read and authenticate every content a snapshot references (or a sample of its files).",
        discussion: """
            Directory listings, chunk lists and symlink targets are always read; file contents are read for all
            files, or for a random --percent of them. Every content is decrypted (authenticated), decompressed and
            checked against its hash. Damaged files are listed by path with the pack blob; exit code 5 then.

            """ + ExitCodes.help
    )

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var selection: SnapshotSelectionOptions

    @Option(help: ArgumentHelp("Share of files whose contents are read, 0-100 (default 100).", valueName: "P"))
    var percent: Double = 100

    @Option(help: ArgumentHelp("Concurrent pack reads (default: twice the CPU count).", valueName: "N"))
    var parallel: Int?

    @Option(help: ArgumentHelp(
        "Bytes of pack ranges and decoded contents held at once, e.g. 96MiB (default 96 MiB, at least 1 MiB); the tree is restored in windows sized from it, so memory does not grow with the number of files.",
        valueName: "SIZE"))
    var memoryBudget: String?

    @Flag(help: "Print one JSON summary instead of text.")
    var json = false

    func validate() throws {
        guard (0...100).contains(percent) else { throw ValidationError("--percent must be between 0 and 100") }
        if let parallel, parallel < 1 { throw ValidationError("--parallel must be at least 1") }
        if let memoryBudget, MemoryBudgetOption.bytes(memoryBudget) == nil {
            throw ValidationError("--memory-budget must be a size such as 96MiB, 512MiB or 1GiB (at least 1MiB)")
        }
    }

    func run() async throws {
        try await CommandFailure.run {
            FileLimits.raise()
            let selection = try selection.selection()
            let logger = Logger(label: "ferry")
            let repo = try await repository.open(logger: logger)
            let snapshot = try repo.select(selection)
            let progress = RestoreProgress()
            let bar = ProgressBar(progress: progress, verb: "verifying", enabled: !json)
            let start = Date()
            let result = try await SnapshotVerifier(repository: repo, options: RestoreOptions(
                parallelism: parallel, memoryBudget: memoryBudget.flatMap(MemoryBudgetOption.bytes) ?? 96 << 20),
                                                    logger: logger)
                .verify(snapshot.rootEntry, percent: percent, progress: progress)
            bar.finish()
            let seconds = Date().timeIntervalSince(start)
            if json {
                try JSONOutput.print(VerifySummaryJSON(snapshot: snapshot.id, result: result, seconds: seconds))
            } else {
                var line = "verified snapshot \(snapshot.id): \(result.filesChecked) of \(result.filesInSnapshot) files, "
                line += "\(result.directories) directories, \(result.symlinks) symlinks, \(result.contentsRead) contents, "
                line += "\(ByteCount.format(result.packBytesRead)) read in \(String(format: "%.2f", seconds)) s"
                line += result.damaged.isEmpty ? "; no damage found" : "; \(result.damaged.count) damaged"
                print(line)
            }
            try RestoreExit.check(failures: result.damaged, stoppedEarly: false)
        }
    }
}

/// `ferry verify --json`: one object.
struct VerifySummaryJSON: Encodable {
    let snapshot: String
    let succeeded: Bool
    let filesChecked: Int
    let filesInSnapshot: Int
    let directories: Int
    let symlinks: Int
    let contentsRead: Int
    let packBytesRead: Int64
    let seconds: Double
    let damaged: [FailureJSON]

    init(snapshot: String, result: SnapshotVerifier.Result, seconds: Double) {
        self.snapshot = snapshot
        succeeded = result.succeeded
        filesChecked = result.filesChecked
        filesInSnapshot = result.filesInSnapshot
        directories = result.directories
        symlinks = result.symlinks
        contentsRead = result.contentsRead
        packBytesRead = result.packBytesRead
        self.seconds = (seconds * 1000).rounded() / 1000
        damaged = result.damaged.map(FailureJSON.init)
    }
}
