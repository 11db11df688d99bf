public import CurlHTTP
public import Foundation
public import Logging

/// Where a repository lives, as `KOPIA_REPOSITORY` or `--repo` give it (ARCHITECTURE.md §3; VolSync's
/// `kopia-config` Secret): `filesystem:///path`, a plain path, or `s3://bucket/prefix`.
public enum RepositoryLocation: Sendable, Hashable, CustomStringConvertible {
    case filesystem(path: String)
    /// `prefix` is normalised like VolSync does: no `//`, ending in `/` unless empty.
    case s3(bucket: String, prefix: String)

    /// Parses a repository location.
    /// - Throws: `KopiaError` `.invalidArgument` for an empty or malformed location, `.unsupportedFormat` for a
    ///   scheme Ferry does not read (azure, gcs, b2, sftp, …).
    public init(parsing text: String) throws(KopiaError) {
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty else {
            throw KopiaError(.invalidArgument, "the repository location is empty; set KOPIA_REPOSITORY or --repo")
        }
        if trimmed.hasPrefix("filesystem://") {
            let path = String(trimmed.dropFirst("filesystem://".count))
            guard !path.isEmpty else {
                throw KopiaError(.invalidArgument, "\"\(text)\" has no path; expected filesystem:///path")
            }
            self = .filesystem(path: path)
        } else if trimmed.hasPrefix("s3://") {
            let rest = trimmed.dropFirst("s3://".count)
            let bucket = String(rest.prefix { $0 != "/" })
            guard !bucket.isEmpty else {
                throw KopiaError(.invalidArgument, "\"\(text)\" has no bucket; expected s3://bucket/prefix")
            }
            var prefix = String(rest.dropFirst(bucket.count))
            while prefix.contains("//") { prefix = prefix.replacingAll("//", with: "/") }
            if prefix.hasPrefix("/") { prefix.removeFirst() }
            if !prefix.isEmpty, !prefix.hasSuffix("/") { prefix += "/" }
            self = .s3(bucket: bucket, prefix: prefix)
        } else if let schemeEnd = trimmed.range(of: "://") {
            let scheme = trimmed[..<schemeEnd.lowerBound]
            throw KopiaError(.unsupportedFormat,
                             "repository type \"\(scheme)\" is not supported; Ferry reads filesystem:// and s3:// repositories")
        } else {
            self = .filesystem(path: trimmed)
        }
    }

    public var description: String {
        switch self {
        case .filesystem(let path): "filesystem://\(path)"
        case .s3(let bucket, let prefix): "s3://\(bucket)/\(prefix)"
        }
    }

    /// Opens the blob storage for this location. No request is made for S3.
    /// - Parameters:
    ///   - environment: where S3 settings come from (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    ///     `AWS_SESSION_TOKEN`, `AWS_REGION`, `AWS_S3_ENDPOINT`, `AWS_CA_BUNDLE`); ignored for filesystems. Only
    ///     these values are read — never the process environment (the controller passes a Secret's keys).
    ///   - s3Overrides: the `--s3-…` flags, which win over the environment.
    ///   - httpClient: the process's shared HTTP client (S3 requests go through it; the storage never shuts it
    ///     down); unused for filesystems.
    ///   - logger: the caller's logger (the storage logs retries and region hints through it).
    /// - Throws: `KopiaError` `.notARepository` (no such directory), `.invalidArgument` for incomplete S3 settings.
    public func makeStorage(
        environment: [String: String],
        s3Overrides: S3Configuration.Overrides = S3Configuration.Overrides(),
        httpClient: HTTPClient,
        logger: Logger
    ) throws -> any BlobStorage {
        switch self {
        case .filesystem(let path):
            return try FilesystemStorage(root: path)
        case .s3(let bucket, let prefix):
            return try S3Storage(bucket: bucket, prefix: prefix, environment: environment, overrides: s3Overrides,
                                 httpClient: httpClient, logger: logger)
        }
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }

    fileprivate func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
