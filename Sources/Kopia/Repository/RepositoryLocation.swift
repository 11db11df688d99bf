public import CurlHTTP
public import Foundation
public import Logging

/// Where a repository lives, as `KOPIA_REPOSITORY` or `--repo` give it (ARCHITECTURE.md §3; VolSync's
/// `kopia-config` Secret): `filesystem:///path`, a plain path, `s3://bucket/prefix`, `gcs://bucket/prefix` or
/// `azure://container/prefix`. VolSync's mover keys (`KOPIA_GCS_BUCKET`, `KOPIA_AZURE_CONTAINER`) are applied by
/// `resolve(explicit:environment:)`.
public enum RepositoryLocation: Sendable, Hashable, CustomStringConvertible {
    case filesystem(path: String)
    /// `prefix` is normalised like VolSync does: no `//`, ending in `/` unless empty.
    case s3(bucket: String, prefix: String)
    /// Google Cloud Storage (kopia-format.md §18.2); prefix normalised as for S3.
    case gcs(bucket: String, prefix: String)
    /// Azure Blob Storage (kopia-format.md §18.3); the account comes from the environment.
    case azure(container: String, prefix: String)

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
        } else if GCSLocation.isGCSURL(trimmed) {
            let location = try GCSLocation.parse(trimmed)
            self = .gcs(bucket: location.bucket, prefix: location.prefix)
        } else if AzureLocation.isAzureURL(trimmed) {
            let location = try AzureLocation.parse(trimmed)
            self = .azure(container: location.container, prefix: location.prefix)
        } else if let schemeEnd = trimmed.range(of: "://") {
            let scheme = trimmed[..<schemeEnd.lowerBound]
            throw KopiaError(.unsupportedFormat,
                             "repository type \"\(scheme)\" is not supported; Ferry reads filesystem://, s3://, gcs:// and azure:// repositories")
        } else {
            self = .filesystem(path: trimmed)
        }
    }

    public var description: String {
        switch self {
        case .filesystem(let path): "filesystem://\(path)"
        case .s3(let bucket, let prefix): "s3://\(bucket)/\(prefix)"
        case .gcs(let bucket, let prefix): "gcs://\(bucket)/\(prefix)"
        case .azure(let container, let prefix): "azure://\(container)/\(prefix)"
        }
    }

    /// Opens the blob storage for this location. No request is made for object stores.
    /// - Parameters:
    ///   - environment: where object-store settings come from — S3: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    ///     `AWS_SESSION_TOKEN`, `AWS_REGION`, `AWS_S3_ENDPOINT`, `AWS_CA_BUNDLE`; GCS: `GCSConfiguration.resolve`;
    ///     Azure: `AzureConfiguration.resolve`; ignored for filesystems. Only
    ///     these values are read — never the process environment (the controller passes a Secret's keys).
    ///   - s3Overrides: the `--s3-…` flags, which win over the environment.
    ///   - gcsOverrides: the `--gcs-…` flags (GCS reads `GOOGLE_APPLICATION_CREDENTIALS`, `STORAGE_EMULATOR_HOST`).
    ///   - azureOverrides: the `--azure-…` flags (Azure reads `AZURE_STORAGE_*`, `KOPIA_AZURE_STORAGE_*`).
    ///   - httpClient: the process's shared HTTP client (S3, GCS and Azure requests go through it; the storage never
    ///     shuts it down); unused for filesystems.
    ///   - logger: the caller's logger (the storage logs retries and region hints through it).
    /// - Throws: `KopiaError` `.notARepository` (no such directory), `.invalidArgument` for incomplete S3 settings.
    public func makeStorage(
        environment: [String: String],
        s3Overrides: S3Configuration.Overrides = S3Configuration.Overrides(),
        gcsOverrides: GCSConfiguration.Overrides = GCSConfiguration.Overrides(),
        azureOverrides: AzureConfiguration.Overrides = AzureConfiguration.Overrides(),
        httpClient: HTTPClient,
        logger: Logger
    ) throws -> any BlobStorage {
        switch self {
        case .filesystem(let path):
            return try FilesystemStorage(root: path)
        case .s3(let bucket, let prefix):
            return try S3Storage(bucket: bucket, prefix: prefix, environment: environment, overrides: s3Overrides,
                                 httpClient: httpClient, logger: logger)
        case .gcs(let bucket, let prefix):
            let configuration = try GCSConfiguration.resolve(location: GCSLocation(bucket: bucket, prefix: prefix),
                                                             environment: environment, overrides: gcsOverrides)
            return try GCSStorage(configuration: configuration, client: httpClient, logger: logger)
        case .azure(let container, let prefix):
            let configuration = try AzureConfiguration.resolve(
                location: AzureLocation(container: container, prefix: prefix), environment: environment,
                overrides: azureOverrides)
            return AzureStorage(configuration: configuration, client: httpClient, logger: logger)
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
