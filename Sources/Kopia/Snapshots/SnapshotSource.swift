/// Who and what a snapshot is of: Kopia's `SourceInfo` (kopia `snapshot/source.go`), printed
/// `username@hostname:path`, e.g. `webapp-backup-production@production:/data`.
public struct SnapshotSource: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public let userName: String
    public let host: String
    public let path: String

    public init(userName: String, host: String, path: String) {
        self.userName = userName
        self.host = host
        self.path = path
    }

    /// Parses `user@host:/path` (the first `@` ends the user name, the first `:` after it ends the host).
    /// - Throws: `KopiaError` `.invalidArgument` when a part is missing.
    public init(parsing text: String) throws(KopiaError) {
        let pattern = try IdentityPattern(parsing: text)
        guard let path = pattern.path else {
            throw KopiaError(.invalidArgument, "\"\(text)\" has no path; expected user@host:/path")
        }
        self.init(userName: pattern.userName, host: pattern.host, path: path)
    }

    public var description: String { "\(userName)@\(host):\(path)" }

    public static func < (lhs: SnapshotSource, rhs: SnapshotSource) -> Bool {
        lhs.description < rhs.description
    }

    enum CodingKeys: String, CodingKey {
        case userName, host, path
    }
}

/// A source filter: `user@host` (every path of that user and host) or `user@host:/path` (that source only).
public struct IdentityPattern: Sendable, Hashable, CustomStringConvertible {
    public let userName: String
    public let host: String
    /// nil = any path.
    public let path: String?

    public init(userName: String, host: String, path: String? = nil) {
        self.userName = userName
        self.host = host
        self.path = path
    }

    public init(_ source: SnapshotSource) {
        self.init(userName: source.userName, host: source.host, path: source.path)
    }

    /// Parses `USER@HOST[:PATH]` like kopia's `ParseSourceInfo`.
    /// - Throws: `KopiaError` `.invalidArgument` saying what is missing.
    public init(parsing text: String) throws(KopiaError) {
        guard let at = text.firstIndex(of: "@") else {
            throw KopiaError(.invalidArgument, "identity \"\(text)\" has no \"@\"; expected USER@HOST or USER@HOST:/PATH")
        }
        let user = String(text[..<at])
        let rest = text[text.index(after: at)...]
        let host: String
        var path: String?
        if let colon = rest.firstIndex(of: ":") {
            host = String(rest[..<colon])
            path = String(rest[rest.index(after: colon)...])
        } else {
            host = String(rest)
        }
        guard !user.isEmpty, !host.isEmpty, path.map({ !$0.isEmpty }) ?? true else {
            throw KopiaError(.invalidArgument,
                             "identity \"\(text)\" is incomplete; expected USER@HOST or USER@HOST:/PATH")
        }
        self.init(userName: user, host: host, path: path)
    }

    public func matches(_ source: SnapshotSource) -> Bool {
        source.userName == userName && source.host == host && (path == nil || source.path == path)
    }

    public var description: String {
        "\(userName)@\(host)" + (path.map { ":\($0)" } ?? "")
    }
}
