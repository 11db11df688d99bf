import ArgumentParser
import Kopia

/// The snapshot selection flags every command that reads one snapshot shares (`ls`, `restore`).
///
/// Exactly one way of naming the snapshot: `--snapshot ID` (a unique prefix is enough), `--identity
/// USER@HOST[:PATH]`, or `--source-name`/`--source-namespace` (a VolSync `sourceIdentity`); with none, the
/// repository must hold a single identity. `--as-of` and `--previous` narrow an identity's complete snapshots,
/// newest first. Incomplete snapshots are only chosen by ID.
struct SnapshotSelectionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Snapshot ID, or a prefix of it that matches one snapshot.", valueName: "ID"))
    var snapshot: String?

    @Option(help: ArgumentHelp("Snapshots of this identity (kopia's username@hostname:/path).",
                               valueName: "USER@HOST[:PATH]"))
    var identity: String?

    @Option(help: ArgumentHelp("VolSync sourceIdentity: the ReplicationSource name (tries both VolSync user-name forms).",
                               valueName: "NAME"))
    var sourceName: String?

    @Option(help: ArgumentHelp("VolSync sourceIdentity: the ReplicationSource namespace.", valueName: "NAMESPACE"))
    var sourceNamespace: String?

    @Option(help: ArgumentHelp("VolSync sourcePathOverride (default /data).", valueName: "PATH"))
    var sourcePath: String?

    @Option(help: ArgumentHelp("Only snapshots that started at or before this time.", valueName: "RFC3339"))
    var asOf: String?

    @Option(help: ArgumentHelp("Skip the N newest matching snapshots (0 = the newest).", valueName: "N"))
    var previous: Int = 0

    /// The selection these flags describe.
    /// - Throws: `CommandError.usage` for conflicting or malformed flags.
    func selection() throws -> SnapshotSelection {
        let volSync = sourceName != nil || sourceNamespace != nil || sourcePath != nil
        let ways = [snapshot != nil, identity != nil, volSync].filter { $0 }.count
        guard ways <= 1 else {
            throw CommandError.usage("choose the snapshot one way: --snapshot, --identity, or --source-name/--source-namespace")
        }
        var asOfTime: KopiaTime?
        if let asOf { asOfTime = try KopiaTime(rfc3339: asOf) }
        let target: SnapshotSelection.Target
        if let snapshot {
            target = .id(snapshot)
        } else if let identity {
            target = .identity(try IdentityPattern(parsing: identity))
        } else if volSync {
            guard let sourceName, let sourceNamespace else {
                throw CommandError.usage("--source-name and --source-namespace go together")
            }
            target = .volSync(VolSyncSource(sourceName: sourceName, sourceNamespace: sourceNamespace,
                                            pathOverride: sourcePath))
        } else {
            target = .only
        }
        let selection = SnapshotSelection(target: target, asOf: asOfTime, previous: previous)
        try selection.validate()
        return selection
    }
}
