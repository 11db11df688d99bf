import Foundation
/// A transport failure: the request did not produce an HTTP response. (Any HTTP status, 4xx and 5xx included, is a
/// response, not an error.) Retries decide on ``code`` and ``retry``, never on ``message``.
public struct HTTPError: Error, Sendable, CustomStringConvertible, RetryClassifying {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Kind: String { case connectionRefused, connectionReset, timeout, tls, dns, cancelled, invalidRequest,
                                  shutdown, transport, responseTooLarge }
        let kind: Kind
        /// The peer refused the TCP connection (nothing listening).
        public static let connectionRefused = Code(kind: .connectionRefused)
        /// The connection broke mid-request (reset, closed early, empty reply).
        public static let connectionReset = Code(kind: .connectionReset)
        /// The request's timeout or the connect timeout expired.
        public static let timeout = Code(kind: .timeout)
        /// TLS handshake or certificate verification failed; ``HTTPError/message`` holds curl's text.
        public static let tls = Code(kind: .tls)
        /// The host name did not resolve.
        public static let dns = Code(kind: .dns)
        /// The calling task was cancelled.
        public static let cancelled = Code(kind: .cancelled)
        /// The request could not be built (bad URL, bad TLS material, unsupported option).
        public static let invalidRequest = Code(kind: .invalidRequest)
        /// The client was shut down.
        public static let shutdown = Code(kind: .shutdown)
        /// The response body exceeded the request's limit (``HTTPRequest/maximumResponseBytes``); the transfer was
        /// aborted before buffering more.
        public static let responseTooLarge = Code(kind: .responseTooLarge)
        /// Any other libcurl failure.
        public static let transport = Code(kind: .transport)
        public var description: String { kind.rawValue }
    }
    public var code: Code
    /// Human-readable detail: libcurl's error buffer text where there is one. Never contains header values.
    public var message: String
    /// Scheme, host and path of the request (no query: it may hold signatures).
    public var url: String
    /// libcurl's `CURLcode`, or 0.
    public var curlCode: Int
    public var file: String
    public var line: Int

    public init(_ code: Code, _ message: String, url: String = "", curlCode: Int = 0,
                file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.url = url
        self.curlCode = curlCode
        self.file = file
        self.line = line
    }

    /// Whether repeating the same request may succeed: connection-level failures may; TLS verdicts, bad requests,
    /// cancellation and shutdown do not.
    public var retry: RetryClass {
        switch code.kind {
        case .connectionRefused, .connectionReset, .timeout, .dns, .transport: .transient
        case .tls, .cancelled, .invalidRequest, .shutdown, .responseTooLarge: .permanent
        }
    }

    public var description: String { "HTTPError(\(code)): \(message) [\(url)]" }

    /// Strips the query and any user-info from a URL for error texts and logs.
    static func redact(_ url: String) -> String {
        var u = url
        if let q = u.firstIndex(where: { $0 == "?" || $0 == "#" }) { u = String(u[..<q]) }
        if let schemeEnd = u.range(of: "://"), let at = u[schemeEnd.upperBound...].firstIndex(of: "@"),
           !u[schemeEnd.upperBound..<at].contains("/") {
            u = String(u[..<schemeEnd.upperBound]) + String(u[u.index(after: at)...])
        }
        return u
    }
}
