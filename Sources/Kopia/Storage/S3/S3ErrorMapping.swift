internal import CurlHTTP

/// The one place that decides what an S3 response means: success, retry, follow a region hint, or a specific
/// `KopiaError` (STYLE.md rule 5: status mapping in one place, decisions on typed codes, never on message text).
enum S3ErrorMapping {
    /// What the storage does with a response.
    enum Disposition: Sendable, Equatable {
        case success
        /// Transient: 500/502/503/504, 429, `SlowDown`, `InternalError`, `RequestTimeout`.
        case retry(S3ServiceError)
        /// The bucket lives in another region; re-sign for `region` and try once more.
        case wrongRegion(region: String, S3ServiceError)
        case fail(S3ServiceError)
    }

    private static let retryableCodes: Set<String> = [
        "SlowDown", "InternalError", "RequestTimeout", "ServiceUnavailable", "Throttling", "ThrottlingException",
        "RequestTimeTooSkewed", "OperationAborted",
    ]
    private static let regionCodes: Set<String> = [
        "PermanentRedirect", "AuthorizationHeaderMalformed", "IncorrectEndpoint", "AuthorizationQueryParametersError",
    ]

    /// Classifies a non-2xx response (2xx is success without an error document).
    static func disposition(status: Int, error: @autoclosure () -> S3ServiceError, currentRegion: String) -> Disposition {
        if (200..<300).contains(status) { return .success }
        let e = error()
        if [500, 502, 503, 504, 429].contains(status) { return .retry(e) }
        if let code = e.code, retryableCodes.contains(code) { return .retry(e) }
        if [301, 307, 400].contains(status), let region = e.region, !region.isEmpty, region != currentRegion,
           e.code.map({ regionCodes.contains($0) }) ?? true {
            return .wrongRegion(region: region, e)
        }
        return .fail(e)
    }

    /// Context for messages: where the request went.
    struct Context: Sendable {
        var location: S3Location
        var endpoint: S3Endpoint
        var region: String
        var redactedAccessKeyID: String?
    }

    /// A specific, actionable error for a failed S3 response. `blobID` names the blob for object operations.
    static func kopiaError(_ e: S3ServiceError, blobID: String?, context c: Context, retriesExhausted: Bool = false)
        -> KopiaError
    {
        let key = blobID.map { c.location.prefix + $0 }
        let server = "\(c.endpoint)"
        let keyText = c.redactedAccessKeyID.map { "access key \($0)" } ?? "anonymous access"
        switch (e.status, e.code) {
        case (404, "NoSuchBucket"?):
            return KopiaError(.storageFailure,
                              "S3 bucket \"\(c.location.bucket)\" does not exist at \(server) (NoSuchBucket); check the bucket in KOPIA_REPOSITORY and AWS_S3_ENDPOINT",
                              blobID: blobID, cause: e)
        case (404, _) where blobID != nil:
            return KopiaError(.blobNotFound,
                              "blob not found in \(c.location) (key \(key ?? "")\(e.code.map { ", \($0)" } ?? ""))",
                              blobID: blobID, cause: e)
        case (416, _):
            return KopiaError(.truncatedData, "range starts beyond the end of the blob in \(c.location)",
                              blobID: blobID, cause: e)
        case (403, "SignatureDoesNotMatch"?):
            return KopiaError(.storageFailure,
                              "S3 rejected the request signature (SignatureDoesNotMatch) for \(keyText) at \(server): the secret access key does not match the key ID; check AWS_SECRET_ACCESS_KEY",
                              blobID: blobID, cause: e)
        case (403, "InvalidAccessKeyId"?):
            return KopiaError(.storageFailure,
                              "S3 does not know \(keyText) (InvalidAccessKeyId) at \(server); check AWS_ACCESS_KEY_ID",
                              blobID: blobID, cause: e)
        case (403, "ExpiredToken"?), (403, "InvalidToken"?), (403, "TokenRefreshRequired"?), (400, "ExpiredToken"?),
             (400, "InvalidToken"?):
            return KopiaError(.storageFailure,
                              "S3 rejected the session token (\(e.code ?? "")) at \(server); refresh AWS_SESSION_TOKEN",
                              blobID: blobID, cause: e)
        case (403, "AccessDenied"?), (403, "AllAccessDisabled"?):
            return KopiaError(.storageFailure,
                              "S3 permission denied (\(e.code ?? "")): the signature is valid but \(keyText) may not \(e.operation.iamAction) on \(key.map { "s3://\(c.location.bucket)/\($0)" } ?? "\(c.location)"); grant it in the bucket or IAM policy",
                              blobID: blobID, cause: e)
        case (403, _):
            return KopiaError(.storageFailure,
                              "S3 refused \(e.operation.rawValue) with HTTP 403\(e.code.map { " (\($0))" } ?? " and no error document, so it did not say whether the signature or the permission failed") for \(keyText) at \(server)",
                              blobID: blobID, cause: e)
        case (301, _), (307, _), (400, "AuthorizationHeaderMalformed"?), (400, "PermanentRedirect"?):
            let hint = e.region.map { "the bucket is in region \($0), not \(c.region); set AWS_REGION=\($0)" }
                ?? "the server redirected without naming a region; check AWS_REGION and AWS_S3_ENDPOINT"
            return KopiaError(.storageFailure, "S3 wrong region for bucket \"\(c.location.bucket)\": \(hint)",
                              blobID: blobID, cause: e)
        default:
            let transient = retriesExhausted || [500, 502, 503, 504, 429].contains(e.status)
            return KopiaError(.storageFailure,
                              "S3 \(e.operation.rawValue) failed at \(server): \(e)" + (retriesExhausted ? " (gave up after retries)" : ""),
                              retry: transient ? .transient : .permanent, blobID: blobID, cause: e)
        }
    }
}

extension S3ErrorMapping {
    /// A transport failure (no HTTP response) as a `KopiaError`: TLS failures name the endpoint and the CA in use.
    static func transportError(_ error: HTTPError, operation: S3ServiceError.Operation, blobID: String?,
                               context c: Context, caFile: String?, attempts: Int) -> KopiaError {
        let server = "\(c.endpoint)"
        let tries = attempts > 1 ? " (after \(attempts) attempts)" : ""
        switch error.code {
        case .tls:
            let ca = caFile.map { "CA bundle \($0)" } ?? "the system CA bundle"
            return KopiaError(.storageFailure,
                              "TLS failure talking to S3 endpoint \(server), verifying with \(ca): \(error.message); set --s3-ca-file or AWS_CA_BUNDLE to the CA that signed the endpoint's certificate",
                              blobID: blobID, path: caFile, cause: error)
        case .connectionRefused:
            return KopiaError(.storageFailure, "cannot connect to S3 endpoint \(server): connection refused\(tries)",
                              retry: .transient, blobID: blobID, cause: error)
        case .dns:
            return KopiaError(.storageFailure, "cannot resolve the S3 endpoint host \(c.endpoint.host)\(tries)",
                              retry: .transient, blobID: blobID, cause: error)
        case .timeout:
            return KopiaError(.storageFailure, "S3 \(operation.rawValue) to \(server) timed out\(tries)",
                              retry: .transient, blobID: blobID, cause: error)
        default:
            return KopiaError(.storageFailure,
                              "S3 \(operation.rawValue) to \(server) failed: \(error.code): \(error.message)\(tries)",
                              retry: error.retry == .transient ? .transient : .permanent, blobID: blobID, cause: error)
        }
    }
}
