/// Choosing the repository from `--repo`, `KOPIA_REPOSITORY` and VolSync's mover keys (kopia-format.md §18.6).
///
/// VolSync documents `KOPIA_REPOSITORY: gcs://bucket/prefix` and `azure://container/prefix`, but its mover never
/// parses those URLs: it picks the backend from `KOPIA_GCS_BUCKET` / `KOPIA_AZURE_CONTAINER` and writes at the
/// bucket/container root. Ferry reads both, in this order (the mover's own order, after the flag):
/// 1. `--repo` (explicit) wins over everything.
/// 2. `KOPIA_REPOSITORY` naming `s3://…` (the mover's first branch).
/// 3. `KOPIA_AZURE_CONTAINER` (non-empty): that container, prefix `""`.
/// 4. `KOPIA_GCS_BUCKET` (non-empty): that bucket, prefix `""`.
/// 5. `KOPIA_REPOSITORY` otherwise.
/// When a mover key wins over a `KOPIA_REPOSITORY` that says something else (another bucket, a prefix), the result
/// carries a warning naming both, so the user sees which one was used.
extension RepositoryLocation {
    /// VolSync mover keys read by `resolve`.
    public enum MoverKey {
        public static let repository = "KOPIA_REPOSITORY"
        public static let gcsBucket = "KOPIA_GCS_BUCKET"
        public static let azureContainer = "KOPIA_AZURE_CONTAINER"
    }

    /// The location and any warnings about keys that lost.
    public struct Resolution: Sendable, Equatable {
        public var location: RepositoryLocation
        public var warnings: [String]
    }

    /// Picks the repository location (see the type's rules).
    /// - Throws: `KopiaError.invalidArgument` when nothing names a repository, or as `init(parsing:)`.
    public static func resolve(explicit: String?, environment: [String: String]) throws(KopiaError) -> Resolution {
        if let explicit, !explicit.isEmpty {
            return Resolution(location: try RepositoryLocation(parsing: explicit), warnings: [])
        }
        func env(_ key: String) -> String? {
            guard let v = environment[key], !v.allSatisfy(\.isWhitespace) else { return nil }
            return v
        }
        let url = env(MoverKey.repository)
        let parsed: RepositoryLocation? = try url.map { u throws(KopiaError) in try RepositoryLocation(parsing: u) }
        if case .s3? = parsed, let parsed {
            return Resolution(location: parsed, warnings: [])
        }
        if let container = env(MoverKey.azureContainer).map(trimmed) {
            let location = try AzureLocation.parse("azure://\(container)")
            let chosen = RepositoryLocation.azure(container: location.container, prefix: "")
            return Resolution(location: chosen, warnings: warnings(chosen: chosen, key: MoverKey.azureContainer,
                                                                   url: url, parsed: parsed))
        }
        if let bucket = env(MoverKey.gcsBucket).map(trimmed) {
            let location = try GCSLocation.parse("gcs://\(bucket)")
            let chosen = RepositoryLocation.gcs(bucket: location.bucket, prefix: "")
            return Resolution(location: chosen, warnings: warnings(chosen: chosen, key: MoverKey.gcsBucket, url: url,
                                                                   parsed: parsed))
        }
        guard let parsed else {
            throw KopiaError(.invalidArgument,
                             "no repository given: set KOPIA_REPOSITORY (or VolSync's KOPIA_GCS_BUCKET / KOPIA_AZURE_CONTAINER) or pass --repo LOCATION")
        }
        return Resolution(location: parsed, warnings: [])
    }

    private static func warnings(chosen: RepositoryLocation, key: String, url: String?,
                                 parsed: RepositoryLocation?) -> [String] {
        guard let url, let parsed, parsed != chosen else { return [] }
        return ["\(key) is set, so the repository is \(chosen) (the root, where VolSync's mover writes); "
                + "KOPIA_REPOSITORY=\(url) is ignored"]
    }

    private static func trimmed(_ text: String) -> String {
        String(text.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
