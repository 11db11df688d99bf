internal import CurlHTTP

/// The one place that decides what a GCS response means (STYLE.md rule 5): success, retry, re-authenticate, or a
/// specific `KopiaError`. Decisions use the status and the document's `reason`, never message text.
enum GCSErrorMapping {
    enum Disposition: Sendable, Equatable {
        case success
        /// 408, 429, 500, 502, 503, 504 (and `rateLimitExceeded`/`backendError` reasons).
        case retry(GCSServiceError)
        /// 401 with a token: it may have expired or been revoked early; drop it and try once with a fresh one.
        case reauthenticate(GCSServiceError)
        case fail(GCSServiceError)
    }

    static let transientStatuses: Set<Int> = [408, 429, 500, 502, 503, 504]
    private static let transientReasons: Set<String> = ["rateLimitExceeded", "userRateLimitExceeded", "backendError",
                                                        "internalError"]

    static func disposition(status: Int, error: @autoclosure () -> GCSServiceError, sentToken: Bool) -> Disposition {
        if (200..<300).contains(status) { return .success }
        let e = error()
        if transientStatuses.contains(status) { return .retry(e) }
        if let reason = e.reason, transientReasons.contains(reason), status != 403 || reason != "forbidden" {
            return .retry(e)
        }
        if status == 401, sentToken { return .reauthenticate(e) }
        return .fail(e)
    }

    struct Context: Sendable {
        var location: GCSLocation
        var endpoint: S3Endpoint
        var credentials: GCSConfiguration.Credentials
    }

    /// A specific, actionable error. `bucketMissing` is the answer of the one bucket probe after an object 404.
    static func kopiaError(_ e: GCSServiceError, blobID: String?, context c: Context, bucketMissing: Bool = false,
                           retriesExhausted: Bool = false) -> KopiaError {
        let who: String
        switch c.credentials {
        case .serviceAccount(let key): who = "service account \(key.clientEmail)"
        case .none: who = "unauthenticated requests"
        }
        let object = blobID.map { "gs://\(c.location.bucket)/\(c.location.prefix)\($0)" } ?? "\(c.location)"
        switch e.status {
        case 404 where bucketMissing || blobID == nil:
            return KopiaError(.storageFailure,
                              "GCS bucket \"\(c.location.bucket)\" does not exist at \(c.endpoint) (or \(who) may not see it); check the bucket in KOPIA_REPOSITORY / KOPIA_GCS_BUCKET",
                              blobID: blobID, cause: e)
        case 404:
            return KopiaError(.blobNotFound, "blob not found in \(c.location) (object \(c.location.prefix)\(blobID ?? ""))",
                              blobID: blobID, cause: e)
        case 416:
            return KopiaError(.truncatedData, "range starts beyond the end of the blob in \(c.location)",
                              blobID: blobID, cause: e)
        case 401:
            return KopiaError(.storageFailure,
                              "GCS rejected the credentials of \(who) (HTTP 401\(e.reason.map { " \($0)" } ?? "")) at \(c.endpoint); check GOOGLE_APPLICATION_CREDENTIALS (a wrong, expired or revoked key)",
                              blobID: blobID, cause: e)
        case 403:
            return KopiaError(.storageFailure,
                              "GCS permission denied: \(who) lacks \(e.operation.permission) on \(object); grant it a role such as Storage Object Admin on the bucket",
                              blobID: blobID, cause: e)
        default:
            let transient = retriesExhausted || transientStatuses.contains(e.status)
            return KopiaError(.storageFailure,
                              "GCS \(e.operation.rawValue) failed at \(c.endpoint): \(e)" + (retriesExhausted ? " (gave up after retries)" : ""),
                              retry: transient ? .transient : .permanent, blobID: blobID, cause: e)
        }
    }

    /// A transport failure (no HTTP response).
    static func transportError(_ error: HTTPError, operation: GCSServiceError.Operation, blobID: String?,
                               endpoint: S3Endpoint, attempts: Int) -> KopiaError {
        let tries = attempts > 1 ? " (after \(attempts) attempts)" : ""
        switch error.code {
        case .tls:
            return KopiaError(.storageFailure, "TLS failure talking to GCS at \(endpoint): \(error.message)",
                              blobID: blobID, cause: error)
        case .connectionRefused:
            return KopiaError(.storageFailure, "cannot connect to GCS at \(endpoint): connection refused\(tries)",
                              retry: .transient, blobID: blobID, cause: error)
        case .timeout:
            return KopiaError(.storageFailure, "GCS \(operation.rawValue) to \(endpoint) timed out\(tries)",
                              retry: .transient, blobID: blobID, cause: error)
        default:
            return KopiaError(.storageFailure,
                              "GCS \(operation.rawValue) to \(endpoint) failed: \(error.code): \(error.message)\(tries)",
                              retry: error.retry == .transient ? .transient : .permanent, blobID: blobID, cause: error)
        }
    }
}
