/// One S3 request before transport: what the signer covers and the HTTP client sends.
///
/// `path` is the canonical, already percent-encoded path (`/bucket/key` or `/key`); `query` holds raw (unencoded)
/// name/value pairs, encoded once by `encodedQuery`. Header names keep their case; the signer lowercases them.
struct S3Request: Sendable {
    var method: String
    var scheme: S3Endpoint.Scheme
    /// The `Host` header value (`host[:port]`).
    var host: String
    var path: String
    var query: [(name: String, value: String)]
    var headers: [(name: String, value: String)]
    var body: [UInt8]?

    init(method: String, scheme: S3Endpoint.Scheme, host: String, path: String,
         query: [(name: String, value: String)] = [], headers: [(name: String, value: String)] = [],
         body: [UInt8]? = nil) {
        self.method = method
        self.scheme = scheme
        self.host = host
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// The first value of header `name` (case-insensitive).
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// Replaces every header named `name` with one field.
    mutating func setHeader(_ name: String, _ value: String) {
        headers.removeAll { $0.name.lowercased() == name.lowercased() }
        headers.append((name: name, value: value))
    }

    /// The query in SigV4 canonical form: each name and value URI-encoded, sorted by name then value.
    var encodedQuery: String {
        query.map { (S3URIEncoding.encode($0.name), S3URIEncoding.encode($0.value)) }
            .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// The absolute URL sent on the wire.
    var url: String {
        let q = encodedQuery
        return "\(scheme.rawValue)://\(host)\(path)\(q.isEmpty ? "" : "?" + q)"
    }

    /// Scheme, host and path only, for messages and logs (queries may carry continuation tokens).
    var redactedURL: String { "\(scheme.rawValue)://\(host)\(path)" }
}

/// SigV4's URI encoding: every byte except the unreserved `A-Z a-z 0-9 - _ . ~` becomes `%XX` (uppercase hex);
/// `/` is kept only when encoding a path.
enum S3URIEncoding {
    private static let hex = Array("0123456789ABCDEF".utf8)

    static func encode(_ text: String, keepSlash: Bool = false) -> String {
        var out = [UInt8]()
        out.reserveCapacity(text.utf8.count)
        for c in text.utf8 {
            let unreserved = (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
                || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z"))
                || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
                || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") || c == UInt8(ascii: ".") || c == UInt8(ascii: "~")
            if unreserved || (keepSlash && c == UInt8(ascii: "/")) {
                out.append(c)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(c >> 4)])
                out.append(hex[Int(c & 0x0f)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
