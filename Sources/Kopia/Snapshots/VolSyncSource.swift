/// A VolSync `sourceIdentity{sourceName, sourceNamespace, sourcePathOverride}` and the Kopia identities it can
/// name (kopia-format.md §14.1; ARCHITECTURE.md §3).
///
/// VolSync's Kopia mover has written two user-name forms: `<sourceName>-<namespace>` (releases before 2025-08-11,
/// and the form ARCHITECTURE.md §3 and the fixtures use) and `<sourceName>` (current). The host is the sanitized
/// namespace and the path is `/data` unless overridden. Selection looks for both forms and refuses to guess when
/// both hold snapshots.
public struct VolSyncSource: Sendable, Hashable, CustomStringConvertible {
    public let sourceName: String
    public let sourceNamespace: String
    public let pathOverride: String?

    public init(sourceName: String, sourceNamespace: String, pathOverride: String? = nil) {
        self.sourceName = sourceName
        self.sourceNamespace = sourceNamespace
        self.pathOverride = pathOverride
    }

    /// VolSync's longest user name.
    public static let maximumUserNameLength = 50
    /// VolSync's user name when nothing valid remains.
    public static let defaultUserName = "volsync-default"

    public var path: String { pathOverride.flatMap { $0.isEmpty ? nil : $0 } ?? "/data" }

    /// Hostname: the namespace keeping `[A-Za-z0-9.-]`, `_` → `-`, trimmed of `-` and `.`; else the sanitized
    /// source name; else `volsync-default`.
    public var host: String {
        let ns = Self.sanitize(sourceNamespace, allowUnderscore: false, allowDots: true)
        if !ns.isEmpty { return ns }
        let name = Self.sanitize(sourceName, allowUnderscore: false, allowDots: true)
        return name.isEmpty ? Self.defaultUserName : name
    }

    /// The current form: `<sourceName>` sanitized (`[A-Za-z0-9_-]`, trimmed of `-`/`_`, at most 50 characters).
    public var currentUserName: String {
        let name = Self.sanitize(sourceName, allowUnderscore: true, allowDots: false)
        guard !name.isEmpty else { return Self.defaultUserName }
        return String(name.prefix(Self.maximumUserNameLength))
    }

    /// The older form `<sourceName>-<namespace>`, when older VolSync would have used it (it fits in 50
    /// characters); nil otherwise.
    public var legacyUserName: String? {
        let name = Self.sanitize(sourceName, allowUnderscore: true, allowDots: false)
        let ns = Self.sanitize(sourceNamespace, allowUnderscore: true, allowDots: false)
        guard !name.isEmpty, !ns.isEmpty else { return nil }
        let candidate = name + "-" + ns
        return candidate.count <= Self.maximumUserNameLength ? candidate : nil
    }

    /// The identities to look for: the older (contract) form first, then the current form.
    public var candidateSources: [SnapshotSource] {
        var out: [SnapshotSource] = []
        if let legacy = legacyUserName { out.append(SnapshotSource(userName: legacy, host: host, path: path)) }
        let current = SnapshotSource(userName: currentUserName, host: host, path: path)
        if !out.contains(current) { out.append(current) }
        return out
    }

    public var description: String {
        "VolSync source \(sourceNamespace)/\(sourceName)" + (pathOverride.map { " (path \($0))" } ?? "")
    }

    static func sanitize(_ input: String, allowUnderscore: Bool, allowDots: Bool) -> String {
        var out = ""
        for ch in input.unicodeScalars {
            switch ch {
            case "a"..."z", "A"..."Z", "0"..."9", "-": out.unicodeScalars.append(ch)
            case "_": out.unicodeScalars.append(allowUnderscore ? "_" : "-")
            case "." where allowDots: out.unicodeScalars.append(ch)
            default: break
            }
        }
        var trim: Set<Character> = ["-"]
        if allowUnderscore { trim.insert("_") }
        if allowDots { trim.insert(".") }
        while let f = out.first, trim.contains(f) { out.removeFirst() }
        while let l = out.last, trim.contains(l) { out.removeLast() }
        return out
    }
}
