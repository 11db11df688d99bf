/// An error response from the Blob service: status, `x-ms-error-code` (or the XML `<Code>`), message and request ID.
///
/// Travels as the `cause` of the `KopiaError` the storage throws, so callers can inspect `code` (`BlobNotFound`,
/// `ContainerNotFound`, `AuthenticationFailed`, `AuthorizationPermissionMismatch`, `ServerBusy`, …) without parsing
/// text. The URL is scheme, host and path only: a SAS in the query never reaches it. Azure's
/// `AuthenticationFailed` document echoes the server's StringToSign in `AuthenticationErrorDetail`; it is dropped.
public struct AzureServiceError: Error, Sendable, Equatable, CustomStringConvertible, RetryClassifying {
    public enum Operation: String, Sendable {
        case get = "GET", properties = "HEAD", put = "PUT", delete = "DELETE", list = "LIST", container = "CONTAINER"
    }

    public var status: Int
    public var code: String?
    public var message: String?
    public var requestID: String?
    public var operation: Operation
    public var url: String

    public init(status: Int, code: String? = nil, message: String? = nil, requestID: String? = nil,
                operation: Operation, url: String) {
        self.status = status
        self.code = code
        self.message = message
        self.requestID = requestID
        self.operation = operation
        self.url = url
    }

    static func parse(status: Int, header: (String) -> String?, body: [UInt8], operation: Operation,
                      url: String) -> AzureServiceError {
        var e = AzureServiceError(status: status, code: header("x-ms-error-code"), requestID: header("x-ms-request-id"),
                                  operation: operation, url: HTTPErrorText.redact(url))
        if let root = try? S3XMLElement.parse(body), root.name == "Error" {
            if e.code == nil { e.code = root.value("Code") }
            e.message = root.value("Message").map { String($0.prefix { $0 != "\n" }) }
        }
        return e
    }

    /// Transient exactly when `AzureErrorMapping` retries the response (408, 429, 5xx, `ServerBusy`, …).
    public var retry: RetryClass {
        if case .retry = AzureErrorMapping.disposition(status: status, error: self) { return .transient }
        return .permanent
    }

    public var description: String {
        var text = "HTTP \(status)"
        if let code { text += " \(code)" }
        if let message, !message.isEmpty { text += ": \(message)" }
        text += " [\(operation.rawValue) \(url)"
        if let requestID { text += ", request \(requestID)" }
        return text + "]"
    }
}
