internal import CurlHTTP

/// The one place that decides what a Blob-service response means (STYLE.md rule 5): success, retry, or a specific
/// `KopiaError`. Decisions use the status and `x-ms-error-code`, never message text.
enum AzureErrorMapping {
    enum Disposition: Sendable, Equatable {
        case success
        /// 408, 429, 500, 502, 503, 504, `ServerBusy`, `InternalError`, `OperationTimedOut` (azcore's retry set).
        case retry(AzureServiceError)
        case fail(AzureServiceError)
    }

    static let transientStatuses: Set<Int> = [408, 429, 500, 502, 503, 504]
    private static let transientCodes: Set<String> = ["ServerBusy", "InternalError", "OperationTimedOut"]

    static func disposition(status: Int, error: @autoclosure () -> AzureServiceError) -> Disposition {
        if (200..<300).contains(status) { return .success }
        let e = error()
        if transientStatuses.contains(status) { return .retry(e) }
        if let code = e.code, transientCodes.contains(code) { return .retry(e) }
        return .fail(e)
    }

    struct Context: Sendable {
        var location: AzureLocation
        var serviceURL: String
        var account: String
        var usesSAS: Bool
    }

    static func kopiaError(_ e: AzureServiceError, blobID: String?, context c: Context, retriesExhausted: Bool = false)
        -> KopiaError
    {
        let auth = c.usesSAS ? "the SAS token (AZURE_STORAGE_SAS_TOKEN)" : "the account key (KOPIA_AZURE_STORAGE_KEY / AZURE_STORAGE_KEY)"
        switch (e.status, e.code) {
        case (404, "ContainerNotFound"?), (404, _) where blobID == nil:
            return KopiaError(.storageFailure,
                              "Azure container \"\(c.location.container)\" does not exist in account \(c.account) at \(c.serviceURL); check the container in KOPIA_REPOSITORY / KOPIA_AZURE_CONTAINER",
                              blobID: blobID, cause: e)
        case (404, _):
            return KopiaError(.blobNotFound, "blob not found in \(c.location) (blob \(c.location.prefix)\(blobID ?? ""))",
                              blobID: blobID, cause: e)
        case (416, _):
            return KopiaError(.truncatedData, "range starts beyond the end of the blob in \(c.location)",
                              blobID: blobID, cause: e)
        case (403, "AuthenticationFailed"?), (401, _):
            return KopiaError(.storageFailure,
                              "Azure rejected \(auth) for account \(c.account) (\(e.code ?? "HTTP \(e.status)")): " + (c.usesSAS
                                ? "the token is malformed, expired, not yet valid or signed with another key"
                                : "the signature does not match; the key is wrong or belongs to another account, or this machine's clock is off"),
                              blobID: blobID, cause: e)
        case (403, _):
            return KopiaError(.storageFailure,
                              "Azure permission denied (\(e.code ?? "HTTP 403")): \(auth) may not \(e.operation.rawValue) in container \"\(c.location.container)\" of account \(c.account)"
                                + (c.usesSAS ? "; the SAS needs read, write, delete and list permissions" : ""),
                              blobID: blobID, cause: e)
        default:
            let transient = retriesExhausted || transientStatuses.contains(e.status)
            return KopiaError(.storageFailure,
                              "Azure \(e.operation.rawValue) failed at \(c.serviceURL): \(e)" + (retriesExhausted ? " (gave up after retries)" : ""),
                              retry: transient ? .transient : .permanent, blobID: blobID, cause: e)
        }
    }

    static func transportError(_ error: HTTPError, operation: AzureServiceError.Operation, blobID: String?,
                               serviceURL: String, attempts: Int) -> KopiaError {
        let tries = attempts > 1 ? " (after \(attempts) attempts)" : ""
        switch error.code {
        case .tls:
            return KopiaError(.storageFailure, "TLS failure talking to Azure at \(serviceURL): \(error.message)",
                              blobID: blobID, cause: error)
        case .dns:
            return KopiaError(.storageFailure,
                              "cannot resolve \(serviceURL) (check the account name and AZURE_STORAGE_DOMAIN)\(tries)",
                              retry: .transient, blobID: blobID, cause: error)
        default:
            return KopiaError(.storageFailure,
                              "Azure \(operation.rawValue) to \(serviceURL) failed: \(error.code): \(error.message)\(tries)",
                              retry: error.retry == .transient ? .transient : .permanent, blobID: blobID, cause: error)
        }
    }
}
