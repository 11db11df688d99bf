/// An error response from an S3 server: the HTTP status and what the `<Error>` document (or, for bodiless `HEAD`
/// responses, the headers) said.
///
/// Travels as the `cause` of the `KopiaError` the storage throws, so callers and tests can inspect the S3 error
/// code (`SignatureDoesNotMatch`, `AccessDenied`, `NoSuchBucket`, …) without parsing text. Holds no credentials:
/// only `Code`, `Message`, `Region` and `RequestId` are kept from the document (S3's `SignatureDoesNotMatch`
/// document also echoes the string to sign, which is dropped).
public struct S3ServiceError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Operation: String, Sendable {
        case get = "GET", head = "HEAD", put = "PUT", delete = "DELETE", list = "LIST"

        /// The IAM action a policy must allow for this operation.
        public var iamAction: String {
            switch self {
            case .get: "s3:GetObject"
            case .head: "s3:GetObject"
            case .put: "s3:PutObject"
            case .delete: "s3:DeleteObject"
            case .list: "s3:ListBucket"
            }
        }
    }

    public var status: Int
    /// S3's error code, e.g. `NoSuchKey`; nil when the response had no error document.
    public var code: String?
    public var message: String?
    /// The bucket's region, when the server said (`<Region>` or `x-amz-bucket-region`).
    public var region: String?
    public var requestID: String?
    public var operation: Operation
    /// Scheme, host and path of the request (never the query).
    public var url: String

    public init(status: Int, code: String? = nil, message: String? = nil, region: String? = nil,
                requestID: String? = nil, operation: Operation, url: String) {
        self.status = status
        self.code = code
        self.message = message
        self.region = region
        self.requestID = requestID
        self.operation = operation
        self.url = url
    }

    /// Reads an error response. `header` looks up a response header case-insensitively.
    static func parse(status: Int, header: (String) -> String?, body: [UInt8], operation: Operation,
                      url: String) -> S3ServiceError {
        var error = S3ServiceError(status: status, operation: operation, url: url)
        if let root = try? S3XMLElement.parse(body), root.name == "Error" {
            error.code = root.value("Code")
            error.message = root.value("Message")
            error.region = root.value("Region")
            error.requestID = root.value("RequestId")
        }
        if error.region == nil { error.region = header("x-amz-bucket-region") }
        if error.requestID == nil { error.requestID = header("x-amz-request-id") ?? header("x-amzn-requestid") }
        return error
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
