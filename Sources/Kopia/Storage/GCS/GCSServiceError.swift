internal import Foundation

/// An error response from GCS: the HTTP status and what the JSON error document said
/// (`{"error":{"code":…,"message":…,"errors":[{"reason":…}]}}`).
///
/// Travels as the `cause` of the `KopiaError` the storage throws, so callers can inspect `reason` (`notFound`,
/// `forbidden`, `authError`, `rateLimitExceeded`, …) without parsing text. Holds no credentials: the URL is scheme,
/// host and path only.
public struct GCSServiceError: Error, Sendable, Equatable, CustomStringConvertible, RetryClassifying {
    public enum Operation: String, Sendable {
        case get = "GET", metadata = "METADATA", put = "PUT", delete = "DELETE", list = "LIST", bucket = "BUCKET"

        /// The IAM permission the operation needs.
        public var permission: String {
            switch self {
            case .get, .metadata: "storage.objects.get"
            case .put: "storage.objects.create"
            case .delete: "storage.objects.delete"
            case .list: "storage.objects.list"
            case .bucket: "storage.buckets.get"
            }
        }
    }

    public var status: Int
    /// The first error's `reason`, when the body was a GCS error document.
    public var reason: String?
    public var message: String?
    public var operation: Operation
    public var url: String

    public init(status: Int, reason: String? = nil, message: String? = nil, operation: Operation, url: String) {
        self.status = status
        self.reason = reason
        self.message = message
        self.operation = operation
        self.url = url
    }

    /// Reads an error response (JSON error document, or plain text from proxies and the XML API).
    static func parse(status: Int, body: [UInt8], operation: Operation, url: String) -> GCSServiceError {
        var e = GCSServiceError(status: status, operation: operation, url: url)
        if let json = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any],
           let error = json["error"] as? [String: Any] {
            e.message = error["message"] as? String
            e.reason = ((error["errors"] as? [Any])?.first as? [String: Any])?["reason"] as? String
        } else if !body.isEmpty, body.count <= 512 {
            let text = String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.hasPrefix("<") { e.message = text }
        }
        return e
    }

    /// Transient exactly when `GCSErrorMapping` retries the response (408, 429, 5xx, rate-limit reasons).
    public var retry: RetryClass {
        if case .retry = GCSErrorMapping.disposition(status: status, error: self, sentToken: false) { return .transient }
        return .permanent
    }

    public var description: String {
        var text = "HTTP \(status)"
        if let reason { text += " \(reason)" }
        if let message, !message.isEmpty { text += ": \(message)" }
        return text + " [\(operation.rawValue) \(HTTPErrorText.redact(url))]"
    }
}
