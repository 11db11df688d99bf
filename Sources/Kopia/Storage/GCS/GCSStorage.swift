public import CurlHTTP
public import Foundation
public import Logging
import Synchronization

/// Kopia blobs in a Google Cloud Storage bucket over libcurl (kopia-format.md §18.1, §18.2): object name = prefix +
/// blob ID, no sharding, no `.f` suffix.
///
/// Contract (BlobStorage, plus):
/// - **Requests.** JSON API: media GET with `Range` for reads, the object resource for metadata (`Kopia-Mtime`
///   honoured), `objects.list` following `nextPageToken`, one `multipart/related` upload with content type
///   `application/x-kopia`, DELETE (404 = success). Tokens from `GCSAccessTokenSource` (cached, refreshed before
///   expiry); none for emulators.
/// - **Transport.** The `HTTPClient` is injected and may be shared; the storage never shuts it down.
/// - **Concurrency.** Any number of calls from any tasks; at most `maxConcurrentRequests` requests in flight.
/// - **Retries.** Transport failures that may pass, 408/429/500/502/503/504 are retried with jittered exponential
///   backoff (`S3RetryPolicy`); 404, 403 and other 4xx are not. A 401 on a cached token drops it and retries once
///   with a fresh one; a second 401 is a clear credentials error.
/// - **Errors.** `KopiaError` naming the bucket, blob, service account and what to check; GCS details travel as
///   `cause` (`GCSServiceError`). Keys and tokens never appear in errors or logs.
/// - **Cancellation.** Cancelling the calling task aborts the transfer and throws `.cancelled`.
public final class GCSStorage: BlobStorage {
    public let configuration: GCSConfiguration
    private let client: HTTPClient
    private let builder: GCSRequestBuilder
    private let limiter: S3RequestLimiter
    private let tokens: GCSAccessTokenSource?
    private let logger: Logger
    /// nil = not probed yet; probed once after the first object 404.
    private let bucketExists = Mutex<Bool?>(nil)

    public var displayName: String { configuration.location.description }

    /// Token exchanges made so far (0 for emulators).
    public var tokenExchangeCount: Int { tokens?.exchangeCount ?? 0 }

    /// Creates the storage on `client`. No request is made.
    /// - Parameters:
    ///   - now: seconds since the Unix epoch, for JWT claims and token expiry (injected for tests).
    /// - Throws: `KopiaError.invalidArgument` when the service account's private key does not load.
    public init(configuration: GCSConfiguration, client: HTTPClient, logger: Logger,
                now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) throws(KopiaError) {
        self.configuration = configuration
        self.client = client
        self.logger = logger
        self.builder = GCSRequestBuilder(endpoint: configuration.endpoint, bucket: configuration.location.bucket)
        self.limiter = S3RequestLimiter(limit: configuration.maxConcurrentRequests)
        switch configuration.credentials {
        case .serviceAccount(let key):
            tokens = try GCSAccessTokenSource(key: key, scopes: configuration.scopes, client: client, logger: logger,
                                              now: now)
        case .none:
            tokens = nil
        }
    }

    /// An `HTTPClient` tuned for `configuration` (for callers that do not share one).
    public static func makeHTTPClient(for configuration: GCSConfiguration, logger: Logger) throws(KopiaError)
        -> HTTPClient
    {
        let http = HTTPClientConfiguration(connectTimeout: .seconds(10), defaultTimeout: configuration.requestTimeout,
                                           maxConnectionsPerHost: configuration.maxConcurrentRequests,
                                           maxCachedConnections: max(16, configuration.maxConcurrentRequests * 2),
                                           userAgent: "ferry-gcs")
        do {
            return try HTTPClient(configuration: http, logger: logger)
        } catch {
            throw KopiaError(.storageFailure, "cannot start the HTTP client for \(configuration.location)", cause: error)
        }
    }

    private func name(_ id: String) -> String { configuration.location.prefix + id }

    // MARK: BlobStorage

    public func read(_ id: String) async throws -> [UInt8] {
        try await perform(.get, blobID: id, builder.media(name(id))).body
    }

    public func read(_ id: String, offset: Int64, length: Int) async throws -> [UInt8] {
        guard offset >= 0, length >= 0 else {
            throw KopiaError(.invalidArgument, "negative offset or length reading \(displayName)", blobID: id)
        }
        if length == 0 { return [] }
        let response = try await perform(.get, blobID: id, builder.media(name(id), offset: offset, length: length))
        var body = response.body
        if response.status == 200 {
            // The server ignored Range and sent the whole object.
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
        var token: String?
        let base = configuration.location.prefix
        repeat {
            let response = try await perform(.list, blobID: nil, builder.list(prefix: base + prefix, pageToken: token))
            let page = try GCSObjectResource.parsePage(response.body)
            for object in page.objects where object.name.hasPrefix(base) {
                let id = String(object.name.dropFirst(base.count))
                if id.isEmpty { continue }
                out.append(BlobMetadata(id: id, length: object.size, modified: object.modified))
            }
            token = page.nextPageToken
        } while token != nil
        return out
    }

    public func metadata(_ id: String) async throws -> BlobMetadata {
        let response = try await perform(.metadata, blobID: id, builder.metadata(name(id)))
        let object = try GCSObjectResource.parse(response.body)
        return BlobMetadata(id: id, length: object.size, modified: object.modified)
    }

    public func write(_ id: String, _ data: [UInt8]) async throws {
        var generator = SystemRandomNumberGenerator()
        let boundary = "ferry-" + (0..<4).map { _ in String(generator.next() as UInt64, radix: 16) }.joined()
        _ = try await perform(.put, blobID: id, builder.upload(name(id), data: data, boundary: boundary))
    }

    public func delete(_ id: String) async throws {
        do {
            _ = try await perform(.delete, blobID: id, builder.delete(name(id)))
        } catch {
            if error.code == .blobNotFound { return }  // idempotent
            throw error
        }
    }

    /// Creates the bucket (emulators and tests; real buckets are made in the Cloud console).
    public func createBucket() async throws {
        _ = try await perform(.bucket, blobID: nil, builder.createBucket())
    }

    // MARK: Requests, retries, tokens

    /// Sends `request` (with a fresh token each attempt) until it succeeds, fails for good, or the retry policy
    /// gives up.
    private func perform(_ operation: GCSServiceError.Operation, blobID: String?,
                         _ unsigned: HTTPRequest) async throws(KopiaError) -> HTTPResponse {
        let policy = configuration.retryPolicy
        var attempt = 0
        var reauthenticated = false
        var generator = SystemRandomNumberGenerator()
        while true {
            attempt += 1
            var request = unsigned
            request.timeout = configuration.requestTimeout
            var token: String?
            if let tokens {
                do {
                    token = try await tokens.token()
                } catch {
                    if error.retry == .transient, policy.allowsRetry(afterAttempt: attempt) {
                        try await backoff(attempt, policy, &generator, operation, blobID, reason: "token endpoint")
                        continue
                    }
                    throw error.adding(blobID: blobID)
                }
                request.headers.set("Authorization", "Bearer \(token ?? "")")
            }
            let response: HTTPResponse
            do {
                response = try await limiter.withSlot { try await client.execute(request) }
            } catch let error as HTTPError {
                if error.code == .cancelled {
                    throw KopiaError(.cancelled, "GCS \(operation.rawValue) cancelled", blobID: blobID)
                }
                if error.retry == .transient, policy.allowsRetry(afterAttempt: attempt) {
                    try await backoff(attempt, policy, &generator, operation, blobID, reason: "\(error.code)")
                    continue
                }
                throw GCSErrorMapping.transportError(error, operation: operation, blobID: blobID,
                                                     endpoint: configuration.endpoint, attempts: attempt)
            } catch {
                throw KopiaError(.cancelled, "GCS \(operation.rawValue) cancelled", blobID: blobID)
            }
            let disposition = GCSErrorMapping.disposition(
                status: response.status,
                error: GCSServiceError.parse(status: response.status, body: response.body, operation: operation,
                                             url: request.url),
                sentToken: token != nil)
            switch disposition {
            case .success:
                if blobID != nil, operation != .delete { bucketExists.withLock { $0 = true } }
                return response
            case .retry(let e):
                guard policy.allowsRetry(afterAttempt: attempt) else {
                    throw GCSErrorMapping.kopiaError(e, blobID: blobID, context: context, retriesExhausted: true)
                }
                try await backoff(attempt, policy, &generator, operation, blobID, reason: e.reason ?? "HTTP \(e.status)")
            case .reauthenticate(let e):
                guard !reauthenticated, let token else {
                    throw GCSErrorMapping.kopiaError(e, blobID: blobID, context: context)
                }
                reauthenticated = true
                attempt -= 1
                tokens?.invalidate(token)
                logger.debug("gcs token rejected, refreshing", metadata: ["gcs.operation": "\(operation.rawValue)"])
            case .fail(let e):
                if e.status == 404, blobID != nil, operation != .delete {
                    throw GCSErrorMapping.kopiaError(e, blobID: blobID, context: context,
                                                     bucketMissing: await probeBucketMissing())
                }
                throw GCSErrorMapping.kopiaError(e, blobID: blobID, context: context)
            }
        }
    }

    /// Whether the bucket is known to be missing: asked once, after the first object 404 (a missing
    /// `kopia.repository` then says "no such bucket" instead of "not a repository" when that is the cause).
    private func probeBucketMissing() async -> Bool {
        if let known = bucketExists.withLock({ $0 }) { return !known }
        do {
            _ = try await perform(.bucket, blobID: nil, builder.bucketResource())
            bucketExists.withLock { $0 = true }
            return false
        } catch {
            let missing = (error.cause as? GCSServiceError)?.status == 404
            if missing { bucketExists.withLock { $0 = false } }
            return missing
        }
    }

    private func backoff(_ attempt: Int, _ policy: S3RetryPolicy, _ generator: inout SystemRandomNumberGenerator,
                         _ operation: GCSServiceError.Operation, _ blobID: String?, reason: String) async throws(KopiaError) {
        let delay = policy.delay(afterAttempt: attempt, using: &generator)
        logger.debug("gcs request retry", metadata: [
            "gcs.operation": "\(operation.rawValue)", "kopia.blob.id": "\(blobID ?? "")", "gcs.attempt": "\(attempt)",
            "gcs.reason": "\(reason)", "gcs.delay": "\(delay)",
        ])
        do {
            try await Task.sleep(for: delay)
        } catch {
            throw KopiaError(.cancelled, "GCS \(operation.rawValue) cancelled while backing off", blobID: blobID)
        }
    }

    private var context: GCSErrorMapping.Context {
        GCSErrorMapping.Context(location: configuration.location, endpoint: configuration.endpoint,
                                credentials: configuration.credentials)
    }

    private func truncated(_ id: String, offset: Int64, length: Int, size: Int64?) -> KopiaError {
        KopiaError(.truncatedData,
                   "GCS returned fewer bytes than asked for \(displayName): \(length) at offset \(offset)"
                       + (size.map { " of a \($0)-byte object" } ?? ""), blobID: id)
    }
}
