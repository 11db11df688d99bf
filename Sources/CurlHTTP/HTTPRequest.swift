public import Foundation

/// An HTTP method. Any token is allowed; the common ones are predeclared.
public struct HTTPMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let get = HTTPMethod(rawValue: "GET")
    public static let head = HTTPMethod(rawValue: "HEAD")
    public static let put = HTTPMethod(rawValue: "PUT")
    public static let post = HTTPMethod(rawValue: "POST")
    public static let patch = HTTPMethod(rawValue: "PATCH")
    public static let delete = HTTPMethod(rawValue: "DELETE")
    public var description: String { rawValue }
}

/// An ordered list of header fields. Lookup is case-insensitive; order and duplicates are kept.
public struct HTTPHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    public private(set) var fields: [(name: String, value: String)] = []

    public init() {}
    public init(_ fields: [(String, String)]) { self.fields = fields.map { (name: $0.0, value: $0.1) } }
    public init(dictionaryLiteral elements: (String, String)...) { self.init(elements) }

    /// The first value of `name` (case-insensitive), or nil.
    public subscript(name: String) -> String? {
        fields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
    /// Every value of `name`, in order.
    public func values(for name: String) -> [String] {
        fields.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map(\.value)
    }
    /// Appends a field (keeps existing fields of the same name).
    public mutating func add(_ name: String, _ value: String) { fields.append((name: name, value: value)) }
    /// Replaces every field named `name` with one field.
    public mutating func set(_ name: String, _ value: String) { remove(name); add(name, value) }
    /// Removes every field named `name`.
    public mutating func remove(_ name: String) {
        fields.removeAll { $0.name.caseInsensitiveCompare(name) == .orderedSame }
    }
    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }
    /// Names only: values may hold credentials and are never printed.
    public var description: String { "HTTPHeaders(\(fields.map(\.name)))" }
}

/// One HTTP request. A value: build it, then hand it to ``HTTPClient/execute(_:)`` or ``HTTPClient/stream(_:)``.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    /// Absolute `http://` or `https://` URL, already percent-encoded.
    public var url: String
    public var headers: HTTPHeaders
    /// Request body, sent with `Content-Length`. nil sends no body.
    public var body: [UInt8]?
    /// Whole-request deadline (connect, send, and receive the full response — for ``HTTPClient/stream(_:)`` the
    /// whole stream). nil means no limit beyond the client's connect timeout.
    public var timeout: Duration?
    /// TLS settings of this request; nil uses the client's (``HTTPClientConfiguration/tls``). Lets one shared
    /// client serve peers with different CAs (one S3 endpoint per repository). libcurl reuses a cached connection
    /// only for a request with the same TLS settings.
    public var tls: TLSOptions?
    /// Largest body ``HTTPClient/execute(_:)`` buffers; nil uses ``HTTPClientConfiguration/maximumResponseBytes``.
    /// A longer body aborts the transfer with `.responseTooLarge`. Streams are not limited here (their reader caps
    /// what it keeps).
    public var maximumResponseBytes: Int?

    public init(method: HTTPMethod = .get, url: String, headers: HTTPHeaders = [:], body: [UInt8]? = nil,
                timeout: Duration? = nil, tls: TLSOptions? = nil, maximumResponseBytes: Int? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.tls = tls
        self.maximumResponseBytes = maximumResponseBytes
    }

    public init(method: HTTPMethod, url: String, headers: HTTPHeaders = [:], body: Data, timeout: Duration? = nil) {
        self.init(method: method, url: url, headers: headers, body: [UInt8](body), timeout: timeout)
    }
}

/// A complete response.
public struct HTTPResponse: Sendable {
    /// The final status code (interim 1xx responses are skipped).
    public var status: Int
    /// Headers of the final response.
    public var headers: HTTPHeaders
    public var body: [UInt8]
    public init(status: Int, headers: HTTPHeaders, body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }
    public var bodyData: Data { Data(body) }
}

/// A response whose body arrives as it is received (watches, large downloads).
public struct HTTPStreamingResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    /// The body chunks in order. Iterate it once, from one task. Ending the iteration early (break, or cancelling
    /// the iterating task) aborts the transfer and frees its connection. Errors thrown are ``HTTPError``.
    public var body: HTTPBodyStream
}
