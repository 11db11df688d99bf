internal import Foundation

/// Everything a `GCSStorage` needs: location, endpoint, credentials and tuning.
///
/// Built by `resolve(location:environment:overrides:)` from the names VolSync's `kopia-config` Secret and Google's
/// tools use (kopia-format.md §18.2, §18.6):
/// - `GOOGLE_APPLICATION_CREDENTIALS`: the service-account key **JSON itself** (what VolSync's Secret holds; text
///   starting with `{`) or a **path** to it (what the mover pod and Google's tools see).
/// - `STORAGE_EMULATOR_HOST`: `host:port` or `http[s]://host:port` of an emulator; requests then go there without a
///   token, as Google's Go client (and kopia v0.18+) does.
/// Overrides (the `--gcs-…` flags) win over the environment. Printing a configuration never shows a key.
public struct GCSConfiguration: Sendable, CustomStringConvertible {
    public enum Credentials: Sendable, Equatable, CustomStringConvertible {
        /// Requests carry `Authorization: Bearer <token>` from this key's JWT bearer flow.
        case serviceAccount(GCSServiceAccountKey)
        /// Requests carry no token (emulators).
        case none

        public var description: String {
            switch self {
            case .serviceAccount(let key): "service account \(key.clientEmail)"
            case .none: "no credentials"
            }
        }
    }

    public var location: GCSLocation
    /// `scheme://host[:port]` of the JSON API (`https://storage.googleapis.com`).
    public var endpoint: S3Endpoint
    public var credentials: Credentials
    /// OAuth scopes requested for tokens.
    public var scopes: [String]
    /// Requests in flight at once.
    public var maxConcurrentRequests: Int
    /// Deadline of one request attempt.
    public var requestTimeout: Duration
    public var retryPolicy: S3RetryPolicy

    public static let defaultEndpoint = S3Endpoint(scheme: .https, host: "storage.googleapis.com")
    public static let readWriteScope = "https://www.googleapis.com/auth/devstorage.read_write"

    public init(location: GCSLocation, endpoint: S3Endpoint = GCSConfiguration.defaultEndpoint,
                credentials: Credentials, scopes: [String] = [GCSConfiguration.readWriteScope],
                maxConcurrentRequests: Int = 16, requestTimeout: Duration = .seconds(300),
                retryPolicy: S3RetryPolicy = .standard) {
        self.location = location
        self.endpoint = endpoint
        self.credentials = credentials
        self.scopes = scopes
        self.maxConcurrentRequests = max(1, maxConcurrentRequests)
        self.requestTimeout = requestTimeout
        self.retryPolicy = retryPolicy
    }

    /// Values given on the command line; each non-nil one replaces the environment's.
    public struct Overrides: Sendable {
        /// An authenticated endpoint (unlike `STORAGE_EMULATOR_HOST`, tokens are still sent).
        public var endpoint: String?
        /// Path of the service-account key.
        public var credentialsFile: String?
        public var maxConcurrentRequests: Int?

        public init(endpoint: String? = nil, credentialsFile: String? = nil, maxConcurrentRequests: Int? = nil) {
            self.endpoint = endpoint
            self.credentialsFile = credentialsFile
            self.maxConcurrentRequests = maxConcurrentRequests
        }
    }

    /// Environment variable names read by `resolve`.
    public enum EnvironmentKey {
        public static let credentials = "GOOGLE_APPLICATION_CREDENTIALS"
        public static let emulatorHost = "STORAGE_EMULATOR_HOST"
    }

    /// Builds a configuration from the environment and overrides.
    ///
    /// Credentials: `--gcs-credentials-file`, else `GOOGLE_APPLICATION_CREDENTIALS` (JSON content or a path).
    /// Endpoint: `--gcs-endpoint` (authenticated), else `STORAGE_EMULATOR_HOST` (unauthenticated, http unless the
    /// value says https), else `https://storage.googleapis.com`.
    /// - Throws: `KopiaError.invalidArgument` for a malformed endpoint, an unreadable or malformed key, or no
    ///   credentials for Google's own endpoint (Ferry has no metadata-server or gcloud fallback). Messages name the
    ///   variable or path, never the key.
    public static func resolve(location: GCSLocation, environment: [String: String],
                               overrides: Overrides = Overrides()) throws(KopiaError) -> GCSConfiguration {
        func env(_ key: String) -> String? {
            guard let v = environment[key]?.trimmingCharacters(in: .whitespacesAndNewlines), !v.isEmpty else { return nil }
            return v
        }
        var endpoint = defaultEndpoint
        var emulator = false
        if let text = overrides.endpoint {
            endpoint = try parseEndpoint(text, name: "--gcs-endpoint", defaultScheme: .https)
        } else if let text = env(EnvironmentKey.emulatorHost) {
            endpoint = try parseEndpoint(text, name: EnvironmentKey.emulatorHost, defaultScheme: .http)
            emulator = true
        }
        var credentials = Credentials.none
        if !emulator {
            if let path = overrides.credentialsFile {
                credentials = .serviceAccount(try readKey(path: path, name: "--gcs-credentials-file"))
            } else if let value = env(EnvironmentKey.credentials) {
                if value.hasPrefix("{") {
                    credentials = .serviceAccount(try GCSServiceAccountKey.parse(Array(value.utf8),
                                                                                 source: EnvironmentKey.credentials))
                } else {
                    credentials = .serviceAccount(try readKey(path: value, name: EnvironmentKey.credentials))
                }
            } else {
                throw KopiaError(.invalidArgument,
                                 "GCS needs a service-account key: set \(EnvironmentKey.credentials) to the key JSON or its path (or \(EnvironmentKey.emulatorHost) for an emulator)")
            }
        }
        var config = GCSConfiguration(location: location, endpoint: endpoint, credentials: credentials)
        if let n = overrides.maxConcurrentRequests, n > 0 { config.maxConcurrentRequests = n }
        return config
    }

    private static func readKey(path: String, name: String) throws(KopiaError) -> GCSServiceAccountKey {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KopiaError(.invalidArgument,
                             "\(name) names \(path), which does not exist or is not readable (it may also hold the key JSON itself)",
                             path: path)
        }
        return try GCSServiceAccountKey.parse([UInt8](data), source: path)
    }

    private static func parseEndpoint(_ text: String, name: String, defaultScheme: S3Endpoint.Scheme)
        throws(KopiaError) -> S3Endpoint
    {
        let withScheme = text.contains("://") ? text : "\(defaultScheme.rawValue)://\(text)"
        do {
            return try S3Endpoint.parse(withScheme)
        } catch {
            throw KopiaError(.invalidArgument, "\(name) must be [http[s]://]host[:port] without a path: \(text)")
        }
    }

    /// Location, endpoint and the service account's e-mail; never the key.
    public var description: String { "\(location) at \(endpoint) (\(credentials))" }
}
