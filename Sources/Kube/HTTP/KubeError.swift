public import CurlHTTP

/// Every failure of the Kubernetes client. Decide on ``code`` and ``retry``; ``message`` is for people.
public struct KubeError: Error, Sendable, CustomStringConvertible, RetryClassifying {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Kind: String {
            case notFound, alreadyExists, conflict, forbidden, unauthorized, gone, invalid, badRequest,
                 tooManyRequests, methodNotAllowed, unsupportedMediaType, serverTimeout, serverError, transport,
                 decoding, configuration, leaderElection
        }
        let kind: Kind
        public static let notFound = Code(kind: .notFound)
        public static let alreadyExists = Code(kind: .alreadyExists)
        /// Optimistic-concurrency failure (stale `resourceVersion`, failed precondition, apply conflict).
        public static let conflict = Code(kind: .conflict)
        /// RBAC denied the request; ``KubeError/message`` carries the API server's reason.
        public static let forbidden = Code(kind: .forbidden)
        public static let unauthorized = Code(kind: .unauthorized)
        /// The requested resourceVersion is too old (410 Gone / Expired): relist.
        public static let gone = Code(kind: .gone)
        /// Validation failed; see ``KubeError/causes``.
        public static let invalid = Code(kind: .invalid)
        public static let badRequest = Code(kind: .badRequest)
        /// Throttled; see ``KubeError/retryAfter``.
        public static let tooManyRequests = Code(kind: .tooManyRequests)
        public static let methodNotAllowed = Code(kind: .methodNotAllowed)
        public static let unsupportedMediaType = Code(kind: .unsupportedMediaType)
        public static let serverTimeout = Code(kind: .serverTimeout)
        public static let serverError = Code(kind: .serverError)
        /// The request never produced a response (see ``KubeError/transport``).
        public static let transport = Code(kind: .transport)
        /// The response could not be decoded.
        public static let decoding = Code(kind: .decoding)
        /// The client configuration (kubeconfig, in-cluster files) is unusable.
        public static let configuration = Code(kind: .configuration)
        /// Leadership was lost or could not be kept.
        public static let leaderElection = Code(kind: .leaderElection)
        public var description: String { kind.rawValue }
    }

    /// A field-level validation failure (`Status.details.causes`).
    public struct Cause: Sendable, Hashable {
        public var field: String?
        public var reason: String?
        public var message: String?
    }

    public var code: Code
    public var message: String
    /// HTTP status (0 when there was no response).
    public var status: Int
    /// `Status.reason` as sent by the server (`NotFound`, `Conflict`, `Expired` …).
    public var reason: String?
    public var causes: [Cause]
    /// Server-suggested wait (`Retry-After` or `details.retryAfterSeconds`).
    public var retryAfter: Duration?
    /// The resource, namespace and name involved, where known.
    public var resource: String?
    public var namespace: String?
    public var name: String?
    /// The transport failure, for `.transport`.
    public var transport: HTTPError?
    public var file: String
    public var line: Int

    public init(_ code: Code, _ message: String, status: Int = 0, reason: String? = nil, causes: [Cause] = [],
                retryAfter: Duration? = nil, resource: String? = nil, namespace: String? = nil, name: String? = nil,
                transport: HTTPError? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.status = status
        self.reason = reason
        self.causes = causes
        self.retryAfter = retryAfter
        self.resource = resource
        self.namespace = namespace
        self.name = name
        self.transport = transport
        self.file = file
        self.line = line
    }

    /// Whether repeating the same request may succeed (conflicts, throttling, server errors, 410 relists and
    /// transient transport failures may).
    public var retry: RetryClass {
        switch code.kind {
        case .conflict, .tooManyRequests, .serverTimeout, .serverError, .gone: .transient
        case .transport: transport?.retry == .permanent ? .permanent : .transient
        default: .permanent
        }
    }

    public var description: String {
        var s = "KubeError(\(code))"
        if let resource { s += " \(resource)" }
        if let namespace { s += " \(namespace)/" } else if name != nil { s += " " }
        if let name { s += name }
        return s + ": \(message)"
    }

    /// Decodes an error response: `Status.reason` decides, the HTTP code is the fallback (client-go's rule).
    static func fromResponse(status: Int, body: [UInt8], retryAfterHeader: String?, resource: String?,
                             namespace: String?, name: String?) -> KubeError {
        let parsed = try? JSONCoding.parse(body)
        let st = parsed?.object
        let reason = st?["reason"]?.string
        let message = st?["message"]?.string ?? String(decoding: body.prefix(512), as: UTF8.self)
        let details = st?["details"]?.object
        let causes = (details?["causes"]?.array ?? []).compactMap { c -> Cause? in
            guard let o = c.object else { return nil }
            return Cause(field: o["field"]?.string, reason: o["reason"]?.string, message: o["message"]?.string)
        }
        var retryAfter: Duration?
        if let h = retryAfterHeader, let secs = Int(h.trimmingCharacters(in: .whitespaces)) { retryAfter = .seconds(secs) }
        else if let secs = details?["retryAfterSeconds"]?.int { retryAfter = .seconds(secs) }
        let code: Code = switch reason {
        case "NotFound": .notFound
        case "AlreadyExists": .alreadyExists
        case "Conflict": .conflict
        case "Forbidden": .forbidden
        case "Unauthorized": .unauthorized
        case "Gone", "Expired": .gone
        case "Invalid": .invalid
        case "BadRequest": .badRequest
        case "TooManyRequests": .tooManyRequests
        case "MethodNotAllowed": .methodNotAllowed
        case "UnsupportedMediaType": .unsupportedMediaType
        case "Timeout", "ServerTimeout": .serverTimeout
        default:
            switch status {
            case 400: .badRequest
            case 401: .unauthorized
            case 403: .forbidden
            case 404: .notFound
            case 405: .methodNotAllowed
            case 409: .conflict
            case 410: .gone
            case 415: .unsupportedMediaType
            case 422: .invalid
            case 429: .tooManyRequests
            case 504: .serverTimeout
            default: .serverError
            }
        }
        return KubeError(code, message, status: status, reason: reason, causes: causes, retryAfter: retryAfter,
                         resource: resource, namespace: namespace, name: name)
    }
}

import Foundation
