/// Where TLS material comes from: a file path or PEM bytes held in memory.
public enum TLSMaterial: Sendable, Equatable {
    case file(String)
    case pem([UInt8])
}

/// TLS settings of a client. Every request of the client uses them.
public struct TLSOptions: Sendable, Equatable {
    /// CA bundle that verifies the server; nil uses the system bundle.
    public var certificateAuthority: TLSMaterial?
    /// Client certificate (PEM) for mutual TLS.
    public var clientCertificate: TLSMaterial?
    /// Private key (PEM) of ``clientCertificate``.
    public var clientKey: TLSMaterial?
    /// Skip server certificate and host-name verification. Only for tests and explicit user opt-in.
    public var insecureSkipVerify: Bool

    public init(certificateAuthority: TLSMaterial? = nil, clientCertificate: TLSMaterial? = nil,
                clientKey: TLSMaterial? = nil, insecureSkipVerify: Bool = false) {
        self.certificateAuthority = certificateAuthority
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.insecureSkipVerify = insecureSkipVerify
    }
}

/// Settings of an ``HTTPClient``.
public struct HTTPClientConfiguration: Sendable {
    public enum HTTPVersion: Sendable { case automatic, http1_1, http2 }

    public var tls: TLSOptions
    /// TCP + TLS connect deadline per connection.
    public var connectTimeout: Duration
    /// Default for ``HTTPRequest/timeout`` when a request leaves it nil. nil means none (watches need none).
    public var defaultTimeout: Duration?
    /// Upper bound of open connections per host (0 = unlimited). Excess requests queue inside libcurl.
    public var maxConnectionsPerHost: Int
    /// Size of the idle connection cache kept for reuse.
    public var maxCachedConnections: Int
    /// `automatic` negotiates HTTP/2 over TLS via ALPN where the server offers it, else HTTP/1.1.
    public var httpVersion: HTTPVersion
    /// Sent as `User-Agent` unless a request sets its own.
    public var userAgent: String
    /// Connect through this Unix domain socket instead of TCP (the URL's host is then only a name).
    public var unixSocketPath: String?
    /// Default cap on a buffered response body (``HTTPRequest/maximumResponseBytes`` overrides it per request).
    public var maximumResponseBytes: Int = HTTPClientConfiguration.defaultMaximumResponseBytes
    /// 1 GiB: above any Kopia pack or API-server list page Ferry reads, far below what would exhaust memory.
    public static let defaultMaximumResponseBytes = 1 << 30
    /// The name of the client's loop thread in /proc and debuggers (the kernel keeps the first 15 bytes). Give each
    /// long-lived client its own (`ferry-curl-kube`, `ferry-curl-s3`) to tell them apart in a thread dump.
    public var threadName: String = "ferry-curl"

    public init(tls: TLSOptions = TLSOptions(), connectTimeout: Duration = .seconds(10),
                defaultTimeout: Duration? = nil, maxConnectionsPerHost: Int = 0, maxCachedConnections: Int = 64,
                httpVersion: HTTPVersion = .automatic, userAgent: String = "ferry", unixSocketPath: String? = nil) {
        self.tls = tls
        self.connectTimeout = connectTimeout
        self.defaultTimeout = defaultTimeout
        self.maxConnectionsPerHost = maxConnectionsPerHost
        self.maxCachedConnections = maxCachedConnections
        self.httpVersion = httpVersion
        self.userAgent = userAgent
        self.unixSocketPath = unixSocketPath
    }
}

extension Duration {
    /// Whole milliseconds for libcurl's `*_MS` options: rounded up, clamped through the shared configured-duration
    /// conversion (a negative or centuries-long value never traps; negative means "expire at once") and to
    /// `Int32.max` ms (24.8 days), because libcurl keeps these timeouts in 32 bits (setopt.c clamps to UINT_MAX).
    var milliseconds: Int {
        Int(wholeUnits(of: .milliseconds(1), limit: Int64(Int32.max)))
    }
}
