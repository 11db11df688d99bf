internal import Foundation

/// Everything an `AzureStorage` needs: location, account, service domain, credentials and tuning.
///
/// Built by `resolve(location:environment:overrides:)` from kopia's and VolSync's names (kopia-format.md §18.3,
/// §18.6), first non-empty wins:
/// - account: `KOPIA_AZURE_STORAGE_ACCOUNT` (VolSync's mover), `AZURE_STORAGE_ACCOUNT` (kopia);
/// - key: `KOPIA_AZURE_STORAGE_KEY`, `AZURE_STORAGE_KEY`; SAS: `AZURE_STORAGE_SAS_TOKEN` — **a SAS wins over a
///   key**, as in kopia;
/// - domain: `AZURE_STORAGE_DOMAIN` (kopia), else `blob.` + `AZURE_ENDPOINT_SUFFIX`, else `blob.core.windows.net`.
///   Service URL = `https://<account>.<domain>/`. A domain written `http://host[:port]` selects plain HTTP (kopia's
///   `doNotUseTLS`, which has no variable) — for test servers.
/// Overrides (the `--azure-…` flags) win over the environment. Printing a configuration never shows a key or SAS
/// signature.
public struct AzureConfiguration: Sendable, CustomStringConvertible {
    public var location: AzureLocation
    public var account: String
    /// The service domain, `blob.core.windows.net` by default (may carry a `:port`).
    public var domain: String
    public var useTLS: Bool
    public var credentials: AzureCredentials
    public var maxConcurrentRequests: Int
    public var requestTimeout: Duration
    public var retryPolicy: S3RetryPolicy

    public static let defaultDomain = "blob.core.windows.net"

    public init(location: AzureLocation, account: String, domain: String = AzureConfiguration.defaultDomain,
                useTLS: Bool = true, credentials: AzureCredentials, maxConcurrentRequests: Int = 16,
                requestTimeout: Duration = .seconds(300), retryPolicy: S3RetryPolicy = .standard) {
        self.location = location
        self.account = account
        self.domain = domain
        self.useTLS = useTLS
        self.credentials = credentials
        self.maxConcurrentRequests = max(1, maxConcurrentRequests)
        self.requestTimeout = requestTimeout
        self.retryPolicy = retryPolicy
    }

    /// `scheme://<account>.<domain>`, no trailing slash.
    public var serviceURL: String { "\(useTLS ? "https" : "http")://\(account).\(domain)" }

    public struct Overrides: Sendable {
        public var domain: String?
        public var maxConcurrentRequests: Int?
        public init(domain: String? = nil, maxConcurrentRequests: Int? = nil) {
            self.domain = domain
            self.maxConcurrentRequests = maxConcurrentRequests
        }
    }

    /// Environment variable names read by `resolve`, in precedence order where several name one setting.
    public enum EnvironmentKey {
        public static let accounts = ["KOPIA_AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_ACCOUNT"]
        public static let keys = ["KOPIA_AZURE_STORAGE_KEY", "AZURE_STORAGE_KEY"]
        public static let sasToken = "AZURE_STORAGE_SAS_TOKEN"
        public static let domain = "AZURE_STORAGE_DOMAIN"
        public static let endpointSuffix = "AZURE_ENDPOINT_SUFFIX"
    }

    /// Builds a configuration from the environment and overrides (see the type's rules).
    /// - Throws: `KopiaError.invalidArgument` naming the missing variable (no account; neither key nor SAS), a key
    ///   that is not Base64, or a malformed domain. Never shows a key.
    public static func resolve(location: AzureLocation, environment: [String: String],
                               overrides: Overrides = Overrides()) throws(KopiaError) -> AzureConfiguration {
        func env(_ key: String) -> String? {
            guard let v = environment[key]?.trimmingCharacters(in: .whitespacesAndNewlines), !v.isEmpty else { return nil }
            return v
        }
        guard let account = EnvironmentKey.accounts.lazy.compactMap(env).first else {
            throw KopiaError(.invalidArgument,
                             "Azure needs a storage account: set KOPIA_AZURE_STORAGE_ACCOUNT or AZURE_STORAGE_ACCOUNT")
        }
        guard account.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) }),
              (3...24).contains(account.utf8.count) else {
            throw KopiaError(.invalidArgument,
                             "invalid Azure storage account name \"\(account)\" (3-24 lowercase letters and digits)")
        }
        let credentials: AzureCredentials
        if let sas = env(EnvironmentKey.sasToken) {
            credentials = .sas(sas)
        } else if let (name, key) = EnvironmentKey.keys.lazy.compactMap({ k in env(k).map { (k, $0) } }).first {
            credentials = try .sharedKey(base64: key, source: name)
        } else {
            throw KopiaError(.invalidArgument,
                             "Azure needs credentials: set AZURE_STORAGE_SAS_TOKEN, or KOPIA_AZURE_STORAGE_KEY / AZURE_STORAGE_KEY")
        }
        var domain = overrides.domain ?? env(EnvironmentKey.domain)
            ?? env(EnvironmentKey.endpointSuffix).map { "blob." + $0 } ?? defaultDomain
        var useTLS = true
        if domain.lowercased().hasPrefix("http://") {
            useTLS = false
            domain = String(domain.dropFirst("http://".count))
        } else if domain.lowercased().hasPrefix("https://") {
            domain = String(domain.dropFirst("https://".count))
        }
        while domain.hasSuffix("/") { domain.removeLast() }
        guard !domain.isEmpty, !domain.contains("/"), !domain.contains("@"), !domain.contains("?") else {
            throw KopiaError(.invalidArgument, "AZURE_STORAGE_DOMAIN must be a host name such as blob.core.windows.net: \(domain)")
        }
        var config = AzureConfiguration(location: location, account: account, domain: domain, useTLS: useTLS,
                                        credentials: credentials)
        if let n = overrides.maxConcurrentRequests, n > 0 { config.maxConcurrentRequests = n }
        return config
    }

    public var description: String { "\(location) at \(serviceURL) (\(credentials))" }
}
