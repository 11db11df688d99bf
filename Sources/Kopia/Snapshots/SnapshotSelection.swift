/// Which snapshot a command means — the one selection every command shares (`ferry ls`, `ferry restore`, the
/// populator). Pure value; `SnapshotCatalog.select(_:)` applies it.
///
/// Semantics (kopia-format.md §11, §14.2):
/// - `.id(prefix)`: the snapshot whose manifest ID is, or uniquely starts with, the text. An incomplete snapshot
///   may be chosen this way (it was named explicitly). `asOf`/`previous` are not allowed with it.
/// - `.identity`, `.volSync`, `.only`: the complete snapshots of one identity, newest first by start time (ties:
///   end time, then ID); with `asOf`, only those that started at or before it; then skip `previous` of them.
///   Incomplete snapshots are never chosen implicitly. VolSync compares RFC 3339 *strings* and includes
///   checkpoints; Ferry compares parsed times and skips incomplete snapshots — deliberate improvements.
/// - `.only`: no identity given; allowed when the repository holds exactly one identity.
public struct SnapshotSelection: Sendable, Hashable, CustomStringConvertible {
    public enum Target: Sendable, Hashable {
        case id(String)
        case identity(IdentityPattern)
        case volSync(VolSyncSource)
        case only
    }

    public var target: Target
    public var asOf: KopiaTime?
    public var previous: Int

    public init(target: Target, asOf: KopiaTime? = nil, previous: Int = 0) {
        self.target = target
        self.asOf = asOf
        self.previous = previous
    }

    public static func id(_ prefix: String) -> SnapshotSelection { SnapshotSelection(target: .id(prefix)) }

    public static func latest(of identity: IdentityPattern, asOf: KopiaTime? = nil, previous: Int = 0)
        -> SnapshotSelection
    {
        SnapshotSelection(target: .identity(identity), asOf: asOf, previous: previous)
    }

    /// Checks the combination: `previous` ≥ 0, no `asOf`/`previous` with an ID, a non-empty ID.
    /// - Throws: `KopiaError` `.invalidArgument`.
    public func validate() throws(KopiaError) {
        guard previous >= 0 else {
            throw KopiaError(.invalidArgument, "--previous must be 0 or more, not \(previous)")
        }
        if case .id(let prefix) = target {
            guard !prefix.isEmpty else { throw KopiaError(.invalidArgument, "the snapshot ID is empty") }
            guard asOf == nil, previous == 0 else {
                throw KopiaError(.invalidArgument,
                                 "--as-of and --previous select among an identity's snapshots; "
                                     + "they cannot be combined with --snapshot")
            }
        }
    }

    public var description: String {
        var s: String
        switch target {
        case .id(let p): return "snapshot \(p)"
        case .identity(let i): s = "identity \(i)"
        case .volSync(let v): s = v.description
        case .only: s = "the repository's only identity"
        }
        if let asOf { s += ", started at or before \(asOf)" }
        if previous > 0 { s += ", skipping the \(previous) newest" }
        return s
    }
}
