public import CurlHTTP
public import Foundation
public import Logging

/// Kopia blobs in an Azure Blob Storage container over libcurl (kopia-format.md §18.1, §18.3): blob name = prefix
/// + blob ID, no sharding.
///
/// Contract (BlobStorage, plus):
/// - **Requests.** Get Blob with `x-ms-range`, Get Blob Properties (`kopiamtime` metadata honoured, any case), List
///   Blobs following `NextMarker`, one Put Blob per write (block blob), Delete Blob (404 = success); Shared Key
///   signed or SAS-authorized (a SAS wins over a key, as in kopia).
/// - **Transport.** The `HTTPClient` is injected and may be shared; the storage never shuts it down.
/// - **Concurrency.** Any number of calls from any tasks; at most `maxConcurrentRequests` requests in flight.
/// - **Retries.** Transport failures that may pass, 408/429/500/502/503/504 and `ServerBusy` are retried with
///   jittered exponential backoff (`S3RetryPolicy`); 404, 403 and other 4xx are not.
/// - **Errors.** `KopiaError` naming the container, account, blob and which credential to check; the service's
///   details travel as `cause` (`AzureServiceError`). Keys and SAS signatures never appear in errors or logs.
/// - **Cancellation.** Cancelling the calling task aborts the transfer and throws `.cancelled`.
public final class AzureStorage: BlobStorage {
    public let configuration: AzureConfiguration
    private let client: HTTPClient
    private let builder: AzureRequestBuilder
    private let limiter: S3RequestLimiter
    private let logger: Logger
    private let now: @Sendable () -> Int64

    public var displayName: String { configuration.location.description }

    /// Creates the storage on `client`. No request is made.
    /// - Parameter now: seconds since the Unix epoch for `x-ms-date` (injected for tests).
    public init(configuration: AzureConfiguration, client: HTTPClient, logger: Logger,
                now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) {
        self.configuration = configuration
        self.client = client
        self.logger = logger
        self.now = now
        self.builder = AzureRequestBuilder(configuration: configuration)
        self.limiter = S3RequestLimiter(limit: configuration.maxConcurrentRequests)
    }

    /// An `HTTPClient` tuned for `configuration` (for callers that do not share one).
    public static func makeHTTPClient(for configuration: AzureConfiguration, logger: Logger) throws(KopiaError)
        -> HTTPClient
    {
        let http = HTTPClientConfiguration(connectTimeout: .seconds(10), defaultTimeout: configuration.requestTimeout,
                                           maxConnectionsPerHost: configuration.maxConcurrentRequests,
                                           maxCachedConnections: max(16, configuration.maxConcurrentRequests * 2),
                                           userAgent: "ferry-azure")
        do {
            return try HTTPClient(configuration: http, logger: logger)
        } catch {
            throw KopiaError(.storageFailure, "cannot start the HTTP client for \(configuration.location)", cause: error)
        }
    }

    private func name(_ id: String) -> String { configuration.location.prefix + id }

    // MARK: BlobStorage

    public func read(_ id: String) async throws -> [UInt8] {
        try await perform(.get, blobID: id) { builder.getBlob(name(id), epochSeconds: $0) }.body
    }

    public func read(_ id: String, offset: Int64, length: Int) async throws -> [UInt8] {
        guard offset >= 0, length >= 0 else {
            throw KopiaError(.invalidArgument, "negative offset or length reading \(displayName)", blobID: id)
        }
        if length == 0 { return [] }
        let response = try await perform(.get, blobID: id) {
            builder.getBlob(name(id), offset: offset, length: length, epochSeconds: $0)
        }
        var body = response.body
        if response.status == 200 {
            guard Int64(body.count) >= offset + Int64(length) else {
                throw truncated(id, offset: offset, length: length, size: Int64(body.count))
            }
            body = Array(body[Int(offset)..<Int(offset) + length])
        }
        guard body.count == length else { throw truncated(id, offset: offset, length: length, size: nil) }
        return body
    }

    public func list(prefix: String) async throws -> [BlobMetadata] {
        var out: [BlobMetadata] = []
        var marker: String?
        let base = configuration.location.prefix
        repeat {
            let m = marker
            let response = try await perform(.list, blobID: nil) {
                builder.listBlobs(prefix: base + prefix, marker: m, epochSeconds: $0)
            }
            let page = try AzureListBlobsPage.parse(response.body)
            for blob in page.blobs where blob.name.hasPrefix(base) {
                let id = String(blob.name.dropFirst(base.count))
                if id.isEmpty { continue }
                out.append(BlobMetadata(id: id, length: blob.size, modified: blob.modified))
            }
            marker = page.nextMarker
        } while marker != nil
        return out
    }

    public func metadata(_ id: String) async throws -> BlobMetadata {
        let response = try await perform(.properties, blobID: id) { builder.blobProperties(name(id), epochSeconds: $0) }
        guard let length = response.headers["Content-Length"].flatMap({ Int64($0) }) else {
            throw KopiaError(.storageFailure, "Azure Get Blob Properties for \(displayName) has no Content-Length",
                             blobID: id)
        }
        let meta = response.headers.compactMap { field -> (String, String)? in
            let lower = field.name.lowercased()
            return lower.hasPrefix("x-ms-meta-") ? (String(lower.dropFirst("x-ms-meta-".count)), field.value) : nil
        }
        let modified = AzureListBlobsPage.mtime(meta) ?? response.headers["Last-Modified"].flatMap(S3Storage.httpDate)
        return BlobMetadata(id: id, length: length, modified: modified)
    }

    public func write(_ id: String, _ data: [UInt8]) async throws {
        _ = try await perform(.put, blobID: id) { builder.putBlob(name(id), body: data, epochSeconds: $0) }
    }

    public func delete(_ id: String) async throws {
        do {
            _ = try await perform(.delete, blobID: id) { builder.deleteBlob(name(id), epochSeconds: $0) }
        } catch {
            if error.code == .blobNotFound { return }  // idempotent
            throw error
        }
    }

    /// Creates the container (test servers; real containers are made in the portal). An existing one is fine.
    public func createContainer() async throws {
        do {
            _ = try await perform(.container, blobID: nil) { builder.createContainer(epochSeconds: $0) }
        } catch {
            if (error.cause as? AzureServiceError)?.code == "ContainerAlreadyExists" { return }
            throw error
        }
    }

    // MARK: Requests and retries

    /// Builds (and signs, with a fresh `x-ms-date`) the request for each attempt until it succeeds, fails for good,
    /// or the retry policy gives up.
    private func perform(_ operation: AzureServiceError.Operation, blobID: String?,
                         _ make: (Int64) -> HTTPRequest) async throws(KopiaError) -> HTTPResponse {
        let policy = configuration.retryPolicy
        var attempt = 0
        var generator = SystemRandomNumberGenerator()
        while true {
            attempt += 1
            var request = make(now())
            request.timeout = configuration.requestTimeout
            let response: HTTPResponse
            do {
                response = try await limiter.withSlot { try await client.execute(request) }
            } catch let error as HTTPError {
                if error.code == .cancelled {
                    throw KopiaError(.cancelled, "Azure \(operation.rawValue) cancelled", blobID: blobID)
                }
                if error.retry == .transient, policy.allowsRetry(afterAttempt: attempt) {
                    try await backoff(attempt, policy, &generator, operation, blobID, reason: "\(error.code)")
                    continue
                }
                throw AzureErrorMapping.transportError(error, operation: operation, blobID: blobID,
                                                       serviceURL: configuration.serviceURL, attempts: attempt)
            } catch {
                throw KopiaError(.cancelled, "Azure \(operation.rawValue) cancelled", blobID: blobID)
            }
            let disposition = AzureErrorMapping.disposition(
                status: response.status,
                error: AzureServiceError.parse(status: response.status, header: { response.headers[$0] },
                                               body: response.body, operation: operation, url: request.url))
            switch disposition {
            case .success:
                return response
            case .retry(let e):
                guard policy.allowsRetry(afterAttempt: attempt) else {
                    throw AzureErrorMapping.kopiaError(e, blobID: blobID, context: context, retriesExhausted: true)
                }
                try await backoff(attempt, policy, &generator, operation, blobID, reason: e.code ?? "HTTP \(e.status)")
            case .fail(let e):
                throw AzureErrorMapping.kopiaError(e, blobID: blobID, context: context)
            }
        }
    }

    private func backoff(_ attempt: Int, _ policy: S3RetryPolicy, _ generator: inout SystemRandomNumberGenerator,
                         _ operation: AzureServiceError.Operation, _ blobID: String?, reason: String) async throws(KopiaError) {
        let delay = policy.delay(afterAttempt: attempt, using: &generator)
        logger.debug("azure request retry", metadata: [
            "azure.operation": "\(operation.rawValue)", "kopia.blob.id": "\(blobID ?? "")",
            "azure.attempt": "\(attempt)", "azure.reason": "\(reason)", "azure.delay": "\(delay)",
        ])
        do {
            try await Task.sleep(for: delay)
        } catch {
            throw KopiaError(.cancelled, "Azure \(operation.rawValue) cancelled while backing off", blobID: blobID)
        }
    }

    private var context: AzureErrorMapping.Context {
        var sas = false
        if case .sas = configuration.credentials { sas = true }
        return AzureErrorMapping.Context(location: configuration.location, serviceURL: configuration.serviceURL,
                                         account: configuration.account, usesSAS: sas)
    }

    private func truncated(_ id: String, offset: Int64, length: Int, size: Int64?) -> KopiaError {
        KopiaError(.truncatedData,
                   "Azure returned fewer bytes than asked for \(displayName): \(length) at offset \(offset)"
                       + (size.map { " of a \($0)-byte blob" } ?? ""), blobID: id)
    }
}
