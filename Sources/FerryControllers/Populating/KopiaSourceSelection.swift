public import Kopia
public import Kube

/// What a KopiaSnapshot's spec asks for, checked and turned into the engine's `SnapshotSelection` (pure).
///
/// Exactly one source form is allowed: `sourceIdentity` (VolSync: both user-name forms, host = namespace, path
/// `/data` unless `sourcePath`), `username` + `hostname` (+ `path`), or `snapshotID`. `restoreAsOf` and
/// `previous` choose among an identity's complete snapshots and cannot be combined with `snapshotID`.
public struct KopiaSourceSelection: Sendable, Hashable {
    public let selection: SnapshotSelection

    /// - Parameters:
    ///   - spec: the KopiaSnapshot's spec.
    ///   - namespace: the KopiaSnapshot's namespace (VolSync's default `sourceNamespace`).
    /// - Throws: `PopulatingError` `.invalidSpec` saying which field is wrong and what to write instead.
    public init(spec: KopiaSnapshotSpec, namespace: String) throws(PopulatingError) {
        let identity = spec.sourceIdentity
        let hasVolSync = !identity.object.isEmpty
        let hasKopia = spec.username != nil || spec.hostname != nil || spec.path != nil
        let hasID = spec.snapshotID.map { !$0.isEmpty } ?? false
        let forms = [hasVolSync, hasKopia, hasID].filter { $0 }.count
        guard forms == 1 else {
            throw PopulatingError(.invalidSpec, forms == 0
                ? "spec names no source: set sourceIdentity {sourceName, sourceNamespace}, username + hostname, or snapshotID"
                : "spec names more than one source: use only one of sourceIdentity, username + hostname, snapshotID")
        }
        var asOf: KopiaTime?
        if let text = spec.restoreAsOf, !text.isEmpty {
            do { asOf = try KopiaTime(rfc3339: text) } catch {
                throw PopulatingError(.invalidSpec, "spec.restoreAsOf \"\(text)\" is not an RFC 3339 time (for example 2024-01-15T00:00:00Z)")
            }
        }
        let previous = spec.previous ?? 0
        guard previous >= 0 else { throw PopulatingError(.invalidSpec, "spec.previous must be 0 or more, not \(previous)") }
        let target: SnapshotSelection.Target
        if hasID, let id = spec.snapshotID {
            guard asOf == nil, previous == 0 else {
                throw PopulatingError(.invalidSpec, "spec.restoreAsOf and spec.previous choose among an identity's snapshots; they cannot be combined with spec.snapshotID")
            }
            guard id.allSatisfy(\.isHexDigit) else {
                throw PopulatingError(.invalidSpec, "spec.snapshotID \"\(id)\" is not a snapshot manifest ID (hexadecimal)")
            }
            target = .id(id)
        } else if hasKopia {
            guard let user = spec.username, !user.isEmpty, let host = spec.hostname, !host.isEmpty else {
                throw PopulatingError(.invalidSpec, "spec.username and spec.hostname go together (spec.path is optional)")
            }
            if let path = spec.path, path.isEmpty || !path.hasPrefix("/") {
                throw PopulatingError(.invalidSpec, "spec.path \"\(path)\" must be an absolute path such as /data")
            }
            target = .identity(IdentityPattern(userName: user, host: host, path: spec.path))
        } else {
            guard let name = identity.sourceName, !name.isEmpty else {
                throw PopulatingError(.invalidSpec, "spec.sourceIdentity.sourceName is required")
            }
            let ns = identity.sourceNamespace.flatMap { $0.isEmpty ? nil : $0 } ?? namespace
            target = .volSync(VolSyncSource(sourceName: name, sourceNamespace: ns, pathOverride: identity.sourcePath))
        }
        selection = SnapshotSelection(target: target, asOf: asOf, previous: previous)
    }

    /// The identities looked for, as status shows them (`a@h:/data or b@h:/data` for VolSync's two forms).
    public var requestedIdentity: String {
        switch selection.target {
        case .id(let id): "snapshot \(id)"
        case .identity(let pattern): pattern.description
        case .volSync(let v): v.candidateSources.map(\.description).joined(separator: " or ")
        case .only: "the repository's only identity"
        }
    }

    /// The identity patterns of the request (empty for a snapshot ID).
    public var requestedPatterns: [IdentityPattern] {
        switch selection.target {
        case .id, .only: []
        case .identity(let pattern): [pattern]
        case .volSync(let v): v.candidateSources.map(IdentityPattern.init)
        }
    }

    /// Why the chosen snapshot was chosen, for events and the PVC annotation.
    public func reason(for snapshot: SnapshotManifest) -> String {
        var why: String
        switch selection.target {
        case .id: why = "pinned by spec.snapshotID"
        case .identity, .volSync, .only:
            why = selection.previous == 0 ? "newest complete snapshot of \(snapshot.source)"
                : "complete snapshot of \(snapshot.source) after skipping the \(selection.previous) newest (spec.previous)"
            if let asOf = selection.asOf { why += " that started at or before \(asOf) (spec.restoreAsOf)" }
        }
        return why
    }
}
