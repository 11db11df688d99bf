/// An AWS access key pair, optionally with a session token (STS).
///
/// Never printed: `description` and `debugDescription` show only the access key ID's first four characters, so a
/// credential that reaches a log line, an error or `--json` output by accident stays secret.
public struct S3Credentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// The access key ID shortened to its first four characters (`AKIA…`), safe for messages.
    public var redactedAccessKeyID: String {
        accessKeyID.count <= 4 ? "…" : String(accessKeyID.prefix(4)) + "…"
    }

    public var description: String {
        "S3Credentials(accessKeyID: \(redactedAccessKeyID), secret: <redacted>\(sessionToken == nil ? "" : ", sessionToken: <redacted>"))"
    }

    public var debugDescription: String { description }
}
