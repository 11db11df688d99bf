/// Every live snapshot of a repository, with the listing and selection rules (pure; no I/O).
///
/// Built from the manifest store (`type=snapshot` entries). `Sendable` value; cheap to query.
public struct SnapshotCatalog: Sendable {
    /// All snapshots, complete and incomplete, oldest first (start time, then end time, then ID).
    public let snapshots: [SnapshotManifest]

    public init(snapshots: [SnapshotManifest]) {
        self.snapshots = snapshots.sorted(by: Self.olderFirst)
    }

    /// Decodes every `type=snapshot` entry of the store.
    /// - Throws: `KopiaError` `.invalidManifest` naming the first manifest that does not decode.
    public init(manifests: ManifestStore) throws(KopiaError) {
        var out: [SnapshotManifest] = []
        for entry in manifests.find(labels: ["type": "snapshot"]) {
            out.append(try SnapshotManifest(entry: entry))
        }
        self.init(snapshots: out)
    }

    /// Each identity with its number of snapshots, sorted by identity text.
    public var identities: [(source: SnapshotSource, count: Int)] {
        var counts: [SnapshotSource: Int] = [:]
        for s in snapshots { counts[s.source, default: 0] += 1 }
        return counts.sorted { $0.key < $1.key }.map { (source: $0.key, count: $0.value) }
    }

    /// Snapshots of the identities matching `pattern` (all when nil), newest first, incomplete ones included.
    public func list(matching pattern: IdentityPattern? = nil) -> [SnapshotManifest] {
        snapshots.filter { pattern?.matches($0.source) ?? true }.reversed()
    }

    /// Applies a selection.
    /// - Throws: `KopiaError` `.snapshotNotFound` (nothing matches; the message lists the identities the
    ///   repository holds), `.ambiguousSelection` (an ID prefix matching several snapshots, an identity without
    ///   path covering several paths, both VolSync user-name forms holding snapshots, or no identity given in a
    ///   repository with several), `.invalidArgument` (see `SnapshotSelection.validate()`).
    public func select(_ selection: SnapshotSelection) throws(KopiaError) -> SnapshotManifest {
        try selection.validate()
        switch selection.target {
        case .id(let prefix):
            return try selectByID(prefix)
        case .identity(let pattern):
            let sources = Set(snapshots.map(\.source).filter(pattern.matches))
            guard !sources.isEmpty else {
                throw notFound("no snapshot of identity \(pattern)")
            }
            guard sources.count == 1, let source = sources.first else {
                throw KopiaError(.ambiguousSelection,
                                 "identity \(pattern) covers several sources: "
                                     + sources.sorted().map(\.description).joined(separator: ", ")
                                     + "; give the path too (USER@HOST:/PATH)")
            }
            return try pick(source, selection)
        case .volSync(let volsync):
            let candidates = volsync.candidateSources
            let present = candidates.filter { c in snapshots.contains { $0.source == c } }
            guard let source = present.first else {
                throw notFound("no snapshot of \(volsync) (looked for "
                               + candidates.map(\.description).joined(separator: " and ") + ")")
            }
            guard present.count == 1 else {
                throw KopiaError(.ambiguousSelection,
                                 "\(volsync) matches two identities that both hold snapshots: "
                                     + present.map(\.description).joined(separator: " and ")
                                     + " (VolSync's older and current user-name forms); give the identity explicitly")
            }
            return try pick(source, selection)
        case .only:
            let sources = Set(snapshots.map(\.source))
            guard let source = sources.first else {
                throw KopiaError(.snapshotNotFound, "the repository holds no snapshots")
            }
            guard sources.count == 1 else {
                throw KopiaError(.ambiguousSelection,
                                 "the repository holds several identities; choose one with --identity or --snapshot: "
                                     + identityList())
            }
            return try pick(source, selection)
        }
    }

    private func selectByID(_ text: String) throws(KopiaError) -> SnapshotManifest {
        let prefix = text.lowercased()
        if let exact = snapshots.first(where: { $0.id == prefix }) { return exact }
        let matches = snapshots.filter { $0.id.hasPrefix(prefix) }
        guard let only = matches.first else {
            throw notFound("no snapshot has an ID starting with \"\(text)\"")
        }
        guard matches.count == 1 else {
            throw KopiaError(.ambiguousSelection,
                             "snapshot ID prefix \"\(text)\" matches \(matches.count) snapshots: "
                                 + matches.map { "\($0.id) (\($0.source), \($0.startTime))" }
                                 .joined(separator: ", ")
                                 + "; give more characters")
        }
        return only
    }

    private func pick(_ source: SnapshotSource, _ selection: SnapshotSelection) throws(KopiaError) -> SnapshotManifest {
        let all = snapshots.filter { $0.source == source }
        let complete = all.filter { !$0.isIncomplete }
        let eligible = complete.filter { s in selection.asOf.map { s.startTime <= $0 } ?? true }.reversed()
        let ordered = Array(eligible)
        guard selection.previous < ordered.count else {
            var what = "\(source) has \(ordered.count) complete snapshot\(ordered.count == 1 ? "" : "s")"
            if let asOf = selection.asOf { what += " that started at or before \(asOf)" }
            if all.count > complete.count { what += " (\(all.count - complete.count) incomplete ones are never chosen implicitly)" }
            if selection.previous > 0 { what += "; --previous \(selection.previous) skips past the oldest" }
            throw KopiaError(.snapshotNotFound, "no snapshot matches: \(what)")
        }
        return ordered[selection.previous]
    }

    private func notFound(_ what: String) -> KopiaError {
        KopiaError(.snapshotNotFound, snapshots.isEmpty
                   ? "\(what); the repository holds no snapshots"
                   : "\(what); the repository holds: \(identityList())")
    }

    private func identityList() -> String {
        identities.map { "\($0.source) (\($0.count) snapshot\($0.count == 1 ? "" : "s"))" }.joined(separator: ", ")
    }

    static func olderFirst(_ a: SnapshotManifest, _ b: SnapshotManifest) -> Bool {
        (a.startTime, a.endTime, a.id) < (b.startTime, b.endTime, b.id)
    }
}
