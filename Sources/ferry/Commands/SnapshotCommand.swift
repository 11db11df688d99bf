import ArgumentParser
import Foundation
import Kopia
import Logging

/// `ferry snapshot …`: inspect the snapshots of a Kopia repository.
struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "List, create and delete the snapshots of a Kopia repository.",
        discussion: ExitCodes.help,
        subcommands: [SnapshotListCommand.self, SnapshotCreateCommand.self, SnapshotDeleteCommand.self]
    )
}

/// `ferry snapshot list [--identity USER@HOST[:PATH]] [--json]`.
struct SnapshotListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List snapshots, newest first (incomplete ones included and marked).",
        discussion: ExitCodes.help
    )

    @OptionGroup var repository: RepositoryOptions

    @Option(help: ArgumentHelp("Only snapshots of this identity; without a path, every path of USER@HOST.",
                               valueName: "USER@HOST[:PATH]"))
    var identity: String?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() async throws {
        try await CommandFailure.run {
            let pattern = try identity.map { text throws(KopiaError) in try IdentityPattern(parsing: text) }
            let repo = try await repository.open(logger: Logger(label: "ferry"))
            let snapshots = repo.catalog.list(matching: pattern)
            if json {
                try JSONOutput.print(snapshots.map(SnapshotJSON.init))
            } else {
                print(Self.table(snapshots))
            }
        }
    }

    /// The text form: a header, then one line per snapshot with columns separated by two spaces.
    static func table(_ snapshots: [SnapshotManifest]) -> String {
        var rows = [["ID", "IDENTITY", "START", "END", "SIZE", "FILES", "DIRS", "STATE", "DESCRIPTION"]]
        for s in snapshots {
            rows.append([s.id, s.source.description, s.startTime.description, s.endTime.description,
                         String(s.totals.size), String(s.totals.files), String(s.totals.dirs),
                         s.incompleteReason.map { "incomplete:\($0)" } ?? "complete",
                         s.description.isEmpty ? "-" : TextEscaping.escape(s.description)])
        }
        return TextTable.render(rows, rightAligned: [4, 5, 6])
    }
}

/// The JSON form of one snapshot in `ferry snapshot list --json`.
struct SnapshotJSON: Encodable {
    struct Source: Encodable {
        let userName: String
        let host: String
        let path: String
    }

    struct Stats: Encodable {
        let totalSize: Int64
        let fileCount: Int64
        let dirCount: Int64
        let errorCount: Int64
        let ignoredErrorCount: Int64
    }

    let id: String
    let identity: String
    let source: Source
    let description: String
    let startTime: String
    let endTime: String
    let incomplete: Bool
    let incompleteReason: String?
    let stats: Stats
    /// What the snapshot's tree holds (the root's directory summary, as `kopia snapshot list` shows).
    let totalSize: Int64
    let fileCount: Int64
    let dirCount: Int64
    let rootObject: String

    init(_ s: SnapshotManifest) {
        id = s.id
        identity = s.source.description
        source = Source(userName: s.source.userName, host: s.source.host, path: s.source.path)
        description = s.description
        startTime = s.startTime.description
        endTime = s.endTime.description
        incomplete = s.isIncomplete
        incompleteReason = s.incompleteReason
        stats = Stats(totalSize: s.stats.totalSize, fileCount: s.stats.fileCount, dirCount: s.stats.dirCount,
                      errorCount: s.stats.errorCount, ignoredErrorCount: s.stats.ignoredErrorCount)
        totalSize = s.totals.size
        fileCount = s.totals.files
        dirCount = s.totals.dirs
        rootObject = s.rootEntry.objectID.description
    }
}
