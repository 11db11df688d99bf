/// Everything an `S3Storage` needs to reach a bucket: location, endpoint, region, credentials, TLS and tuning.
///
/// Built by `resolve(location:environment:overrides:)` from the names VolSync's `kopia-config` Secret and the AWS
/// tools use (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`, `AWS_S3_ENDPOINT`,
/// `AWS_CA_BUNDLE`); explicit overrides (the `--s3-…` flags) win over the environment. Printing a configuration never
/// shows a secret (`S3Credentials` redacts itself).
public struct S3Configuration: Sendable, CustomStringConvertible {
    /// How the bucket appears in request URLs.
    public enum AddressingStyle: Sendable, Equatable {
        /// `https://endpoint/bucket/key` — what MinIO, Ceph RGW, moto and most custom endpoints expect.
        case path
        /// `https://bucket.endpoint/key` — AWS's preferred form.
        case virtualHosted
    }

    public var location: S3Location
    public var endpoint: S3Endpoint
    /// The SigV4 signing region.
    public var region: String
    /// nil sends unsigned (anonymous) requests.
    public var credentials: S3Credentials?
    /// PEM CA bundle that verifies an `https` endpoint; nil uses the system bundle.
    public var caFile: String?
    public var addressingStyle: AddressingStyle
    /// Requests in flight at once (ranged reads of a restore, listing pages are sequential).
    public var maxConcurrentRequests: Int
    /// Deadline of one request attempt (connect, send, receive).
    public var requestTimeout: Duration
    public var retryPolicy: S3RetryPolicy

    public init(location: S3Location, endpoint: S3Endpoint, region: String = "us-east-1",
                credentials: S3Credentials?, caFile: String? = nil, addressingStyle: AddressingStyle = .path,
                maxConcurrentRequests: Int = 16, requestTimeout: Duration = .seconds(300),
                retryPolicy: S3RetryPolicy = .standard) {
        self.location = location
        self.endpoint = endpoint
        self.region = region
        self.credentials = credentials
        self.caFile = caFile
        self.addressingStyle = addressingStyle
        self.maxConcurrentRequests = maxConcurrentRequests
        self.requestTimeout = requestTimeout
        self.retryPolicy = retryPolicy
    }

    /// Values given on the command line; each non-nil one replaces the environment's.
    public struct Overrides: Sendable {
        public var endpoint: String?
        public var region: String?
        public var caFile: String?
        public var accessKeyID: String?
        public var secretAccessKey: String?
        public var sessionToken: String?
        public var pathStyle: Bool?
        public var maxConcurrentRequests: Int?

        public init(endpoint: String? = nil, region: String? = nil, caFile: String? = nil, accessKeyID: String? = nil,
                    secretAccessKey: String? = nil, sessionToken: String? = nil, pathStyle: Bool? = nil,
                    maxConcurrentRequests: Int? = nil) {
            self.endpoint = endpoint
            self.region = region
            self.caFile = caFile
            self.accessKeyID = accessKeyID
            self.secretAccessKey = secretAccessKey
            self.sessionToken = sessionToken
            self.pathStyle = pathStyle
            self.maxConcurrentRequests = maxConcurrentRequests
        }
    }

    /// Environment variable names read by `resolve`.
    public enum EnvironmentKey {
        public static let accessKeyID = "AWS_ACCESS_KEY_ID"
        public static let secretAccessKey = "AWS_SECRET_ACCESS_KEY"
        public static let sessionToken = "AWS_SESSION_TOKEN"
        public static let region = "AWS_REGION"
        public static let defaultRegion = "AWS_DEFAULT_REGION"
        public static let endpoint = "AWS_S3_ENDPOINT"
        public static let caBundle = "AWS_CA_BUNDLE"
    }

    /// Builds a configuration from the environment and overrides.
    ///
    /// Region: override, `AWS_REGION`, `AWS_DEFAULT_REGION`, else `us-east-1`. Endpoint: override, `AWS_S3_ENDPOINT`,
    /// else AWS's regional endpoint. Custom endpoints use path-style addressing; AWS uses virtual-hosted addressing
    /// unless the bucket name holds a `.` (TLS wildcard certificates do not cover it) or `pathStyle` is set.
    /// - Throws: `KopiaError.invalidArgument` for a malformed endpoint, or when only one of the access key ID and
    ///   secret is set (the message names the missing variable, never a value).
    public static func resolve(location: S3Location, environment: [String: String],
                               overrides: Overrides = Overrides()) throws(KopiaError) -> S3Configuration {
        func env(_ key: String) -> String? {
            guard let v = environment[key], !v.isEmpty else { return nil }
            return v
        }
        let region = overrides.region ?? env(EnvironmentKey.region) ?? env(EnvironmentKey.defaultRegion) ?? "us-east-1"
        let endpoint: S3Endpoint
        let custom: Bool
        if let text = overrides.endpoint ?? env(EnvironmentKey.endpoint) {
            endpoint = try S3Endpoint.parse(text)
            custom = !endpoint.isAWS
        } else {
            endpoint = .aws(region: region)
            custom = false
        }
        let keyID = overrides.accessKeyID ?? env(EnvironmentKey.accessKeyID)
        let secret = overrides.secretAccessKey ?? env(EnvironmentKey.secretAccessKey)
        let token = overrides.sessionToken ?? env(EnvironmentKey.sessionToken)
        let credentials: S3Credentials?
        switch (keyID, secret) {
        case let (k?, s?): credentials = S3Credentials(accessKeyID: k, secretAccessKey: s, sessionToken: token)
        case (nil, nil): credentials = nil
        case (nil, _?):
            throw KopiaError(.invalidArgument, "\(EnvironmentKey.secretAccessKey) is set but \(EnvironmentKey.accessKeyID) is not")
        case (_?, nil):
            throw KopiaError(.invalidArgument, "\(EnvironmentKey.accessKeyID) is set but \(EnvironmentKey.secretAccessKey) is not")
        }
        let style: AddressingStyle
        if let pathStyle = overrides.pathStyle {
            style = pathStyle ? .path : .virtualHosted
        } else {
            style = custom || location.bucket.contains(".") ? .path : .virtualHosted
        }
        var config = S3Configuration(location: location, endpoint: endpoint, region: region, credentials: credentials,
                                     caFile: overrides.caFile ?? env(EnvironmentKey.caBundle), addressingStyle: style)
        if let n = overrides.maxConcurrentRequests, n > 0 { config.maxConcurrentRequests = n }
        return config
    }

    /// Location, endpoint, region, addressing and CA file; credentials appear only as a redacted key ID.
    public var description: String {
        "\(location) at \(endpoint) (region \(region), \(addressingStyle == .path ? "path-style" : "virtual-hosted")"
            + (caFile.map { ", CA \($0)" } ?? "")
            + (credentials.map { ", key \($0.redactedAccessKeyID)" } ?? ", anonymous") + ")"
    }
}
