internal import Foundation

/// The S3 server a client talks to: scheme, host and optional port.
///
/// Parsed from `AWS_S3_ENDPOINT` / `--s3-endpoint`: `http://host[:port]`, `https://host[:port]`, or a bare
/// `host[:port]` (which means HTTPS, as the AWS tools read it). A trailing `/` is allowed; a path, query or user
/// info is refused because S3 keys would silently move under it.
public struct S3Endpoint: Sendable, Hashable, CustomStringConvertible {
    public enum Scheme: String, Sendable { case http, https }

    public var scheme: Scheme
    public var host: String
    public var port: Int?

    public init(scheme: Scheme, host: String, port: Int? = nil) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    /// AWS's regional endpoint, `https://s3.<region>.amazonaws.com`.
    public static func aws(region: String) -> S3Endpoint {
        S3Endpoint(scheme: .https, host: region == "us-east-1" ? "s3.amazonaws.com" : "s3.\(region).amazonaws.com")
    }

    /// Whether this is one of AWS's own endpoints (virtual-hosted addressing, region in the host name).
    public var isAWS: Bool { host == "amazonaws.com" || host.hasSuffix(".amazonaws.com") }

    /// The `Host` header value: the host, plus the port when it is not the scheme's default.
    public var hostHeader: String {
        guard let port, port != (scheme == .https ? 443 : 80) else { return bracketedHost }
        return "\(bracketedHost):\(port)"
    }

    /// `scheme://host[:port]`, no trailing slash.
    public var description: String { "\(scheme.rawValue)://\(hostHeader)" }

    private var bracketedHost: String { host.contains(":") ? "[\(host)]" : host }

    /// Parses an endpoint.
    /// - Throws: `KopiaError.invalidArgument` naming the text when it is not `[http[s]://]host[:port][/]`.
    public static func parse(_ text: String) throws(KopiaError) -> S3Endpoint {
        var rest = text.trimmingCharacters(in: .whitespaces)
        var scheme = Scheme.https
        if let range = rest.range(of: "://") {
            guard let s = Scheme(rawValue: rest[..<range.lowerBound].lowercased()) else {
                throw KopiaError(.invalidArgument, "S3 endpoint must start with http:// or https://: \(text)")
            }
            scheme = s
            rest = String(rest[range.upperBound...])
        }
        while rest.hasSuffix("/") { rest.removeLast() }
        if rest.contains("/") || rest.contains("?") || rest.contains("@") || rest.contains("#") {
            throw KopiaError(.invalidArgument,
                             "S3 endpoint must be scheme://host[:port] without a path, query or user info: \(text)")
        }
        var host = rest
        var port: Int?
        if rest.hasPrefix("[") {
            // [IPv6]:port
            guard let close = rest.firstIndex(of: "]") else {
                throw KopiaError(.invalidArgument, "S3 endpoint has an unclosed IPv6 bracket: \(text)")
            }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { port = Int(after.dropFirst()) ?? -1 } else if !after.isEmpty { port = -1 }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            port = Int(rest[rest.index(after: colon)...]) ?? -1
        }
        if let p = port, !(1...65535).contains(p) {
            throw KopiaError(.invalidArgument, "S3 endpoint has an invalid port: \(text)")
        }
        guard !host.isEmpty else { throw KopiaError(.invalidArgument, "S3 endpoint has no host: \(text)") }
        return S3Endpoint(scheme: scheme, host: host, port: port)
    }
}
