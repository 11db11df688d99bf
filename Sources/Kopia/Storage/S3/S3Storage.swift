public import CurlHTTP
public import Foundation
public import Logging
import Synchronization

/// Kopia blobs in an S3 bucket over libcurl (kopia-format.md §1.3): object key = prefix + blob ID, no sharding,
/// no `.f` suffix.
///
/// Contract (BlobStorage, plus):
/// - **Requests.** Ranged GET for reads, HEAD for metadata, ListObjectsV2 with continuation tokens for listings,
///   single PUT with `Content-MD5` for writes, DELETE; all signed with SigV4 (`x-amz-content-sha256` = payload hash).
/// - **Concurrency.** Any number of calls from any tasks; at most `maxConcurrentRequests` requests of this storage
///   are in flight (a per-storage limit, whoever else shares the client), over the injected `HTTPClient`, whose
///   one libcurl thread and connection cache serve every repository of the process. The storage never shuts the
///   client down; its owner (the CLI command, the controller) does.
/// - **TLS.** The configuration's CA file travels with each request, so storages with different CAs share one
///   client safely.
/// - **Retries.** Transport failures that may pass (timeouts, resets, refused), 500/502/503/504, 429 and `SlowDown`
///   are retried with jittered exponential backoff (`S3RetryPolicy`); other 4xx are not. A wrong-region answer that
///   names the bucket's region is followed once, and that region is then used for every later request.
/// - **Errors.** `KopiaError` with a specific message (signature vs permission for 403, missing bucket, missing
///   blob named, wrong region, TLS naming the endpoint and CA); the S3 details travel as `cause`
///   (`S3ServiceError`). Credentials never appear in errors or logs.
/// - **Cancellation.** Cancelling the calling task aborts the transfer and throws `.cancelled`.
public final class S3Storage: BlobStorage {
    public let configuration: S3Configuration
    private let client: HTTPClient
    private let builder: S3RequestBuilder
    private let limiter: S3RequestLimiter
    private let logger: Logger
    private let region: Mutex<String>
    private let now: @Sendable () -> Int64
    private let tls: TLSOptions

    public var displayName: String { configuration.location.description }

    /// Cap of the bodies of listings, HEAD, PUT and DELETE answers (a 1000-key listing page is ~300 KB); blob
    /// reads use the client's cap.
    static let maximumControlResponseBytes = 16 << 20

    /// The signing region in use (the configured one, or the one a wrong-region answer named).
    public var currentRegion: String { region.withLock { $0 } }

    /// A client configuration suited to S3 storages that share it: no per-host connection cap (each storage
    /// bounds its own requests), a connection cache for many endpoints.
    public static let sharedClientConfiguration = HTTPClientConfiguration(
        connectTimeout: .seconds(10), defaultTimeout: nil, maxConnectionsPerHost: 0, maxCachedConnections: 64,
        userAgent: "ferry-s3")

    /// Creates the storage over a shared HTTP client. No request is made.
    /// - Parameters:
    ///   - httpClient: the transport, owned by the caller and shared by every storage of the process; its TLS
    ///     settings are not used (each request carries this configuration's CA).
    ///   - now: seconds since the Unix epoch for `x-amz-date` (injected for tests).
    /// - Throws: `KopiaError.invalidArgument` if the CA file does not exist.
    public init(configuration: S3Configuration, httpClient: HTTPClient, logger: Logger,
                now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) throws(KopiaError) {
        if let ca = configuration.caFile, !FileManager.default.isReadableFile(atPath: ca) {
            throw KopiaError(.invalidArgument, "S3 CA bundle \(ca) does not exist or is not readable", path: ca)
        }
        self.configuration = configuration
        self.logger = logger
        self.now = now
        self.region = Mutex(configuration.region)
        self.builder = S3RequestBuilder(endpoint: configuration.endpoint, bucket: configuration.location.bucket,
                                        addressingStyle: configuration.addressingStyle)
        self.limiter = S3RequestLimiter(limit: configuration.maxConcurrentRequests)
        self.tls = TLSOptions(certificateAuthority: configuration.caFile.map { .file($0) })
        self.client = httpClient
    }

    private func key(_ id: String) -> String { configuration.location.prefix + id }

    // MARK: BlobStorage

    public func read(_ id: String) async throws -> [UInt8] {
        try await perform(.get, blobID: id, builder.getObject(key: key(id))).body
    }

    public func read(_ id: String, offset: Int64, length: Int) async throws -> [UInt8] {
        guard offset >= 0, length >= 0 else {
            throw KopiaError(.invalidArgument, "negative offset or length reading \(displayName)", blobID: id)
        }
        if length == 0 { return [] }
        let response = try await perform(.get, blobID: id,
                                         builder.getObject(key: key(id), offset: offset, length: length))
        var body = response.body
        if response.status == 200 {
            // The server ignored Range and sent the whole object.
            guard Int64(body.count) >= offset + Int64(length) else {
                throw truncated(id, offset: offset, length: length, size: Int64(body.count))
            }
            body = Array(body[Int(offset)..<Int(offset) + length])
        }
        guard body.count == length else {
            throw truncated(id, offset: offset, length: length, size: nil)
        }
        return body
    }

    public func list(prefix: String) async throws -> [BlobMetadata] {
        var out: [BlobMetadata] = []
        var token: String?
        let base = configuration.location.prefix
        repeat {
            let response = try await perform(.list, blobID: nil,
                                             builder.listObjectsV2(prefix: base + prefix, continuationToken: token))
            let page = try S3ListObjectsPage.parse(response.body)
            for object in page.objects where object.key.hasPrefix(base) {
                let id = String(object.key.dropFirst(base.count))
                if id == ".storageconfig" || id.isEmpty { continue }
                out.append(BlobMetadata(id: id, length: object.size, modified: object.lastModified))
            }
            token = page.isTruncated ? page.nextContinuationToken : nil
        } while token != nil
        return out
    }

    public func metadata(_ id: String) async throws -> BlobMetadata {
        let response = try await perform(.head, blobID: id, builder.headObject(key: key(id)))
        guard let length = response.headers["Content-Length"].flatMap({ Int64($0) }) else {
            throw KopiaError(.storageFailure, "S3 HEAD response for \(displayName) has no Content-Length", blobID: id)
        }
        return BlobMetadata(id: id, length: length, modified: response.headers["Last-Modified"].flatMap(Self.httpDate))
    }

    public func write(_ id: String, _ data: [UInt8]) async throws {
        _ = try await perform(.put, blobID: id, builder.putObject(key: key(id), body: data))
    }

    public func delete(_ id: String) async throws {
        do {
            _ = try await perform(.delete, blobID: id, builder.deleteObject(key: key(id)))
        } catch {
            if error.code == .blobNotFound { return }  // idempotent
            throw error
        }
    }

    // MARK: Requests, retries, region hints

    private struct Response {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
    }

    /// Sends `unsigned` (signed afresh for every attempt) until it succeeds, fails for good, or the retry policy
    /// gives up.
    private func perform(_ operation: S3ServiceError.Operation, blobID: String?,
                         _ unsigned: S3Request) async throws(KopiaError) -> Response {
        let policy = configuration.retryPolicy
        var attempt = 0
        var followedRegion = false
        var generator = SystemRandomNumberGenerator()
        while true {
            attempt += 1
            let signingRegion = currentRegion
            var request = unsigned
            let signer = configuration.credentials.map { SigV4Signer(credentials: $0, region: signingRegion) }
            S3RequestBuilder.sign(&request, signer: signer, epochSeconds: now())
            let httpRequest = HTTPRequest(method: HTTPMethod(rawValue: request.method), url: request.url,
                                          headers: HTTPHeaders(request.headers.map { ($0.name, $0.value) }),
                                          body: request.body, timeout: configuration.requestTimeout, tls: tls,
                                          maximumResponseBytes: operation == .get ? nil : Self.maximumControlResponseBytes)
            let response: HTTPResponse
            do {
                response = try await limiter.withSlot { try await client.execute(httpRequest) }
            } catch let error as HTTPError {
                if error.code == .cancelled {
                    throw KopiaError(.cancelled, "S3 \(operation.rawValue) cancelled", blobID: blobID)
                }
                if error.retry == .transient, policy.allowsRetry(afterAttempt: attempt) {
                    try await backoff(attempt, policy, &generator, operation, blobID, reason: "\(error.code)")
                    continue
                }
                throw S3ErrorMapping.transportError(error, operation: operation, blobID: blobID, context: context,
                                                    caFile: configuration.caFile, attempts: attempt)
            } catch {
                throw KopiaError(.cancelled, "S3 \(operation.rawValue) cancelled", blobID: blobID)
            }
            let disposition = S3ErrorMapping.disposition(
                status: response.status,
                error: S3ServiceError.parse(status: response.status, header: { response.headers[$0] },
                                            body: response.body, operation: operation, url: request.redactedURL),
                currentRegion: signingRegion)
            switch disposition {
            case .success:
                return Response(status: response.status, headers: response.headers, body: response.body)
            case .retry(let e):
                guard policy.allowsRetry(afterAttempt: attempt) else {
                    throw S3ErrorMapping.kopiaError(e, blobID: blobID, context: context, retriesExhausted: true)
                }
                try await backoff(attempt, policy, &generator, operation, blobID,
                                  reason: e.code ?? "HTTP \(e.status)")
            case .wrongRegion(let hinted, let e):
                guard !followedRegion else { throw S3ErrorMapping.kopiaError(e, blobID: blobID, context: context) }
                followedRegion = true
                attempt -= 1  // following the hint is not a failed attempt
                region.withLock { $0 = hinted }
                logger.info("s3 region hint followed", metadata: [
                    "s3.bucket": "\(configuration.location.bucket)", "s3.region.configured": "\(signingRegion)",
                    "s3.region.server": "\(hinted)",
                ])
            case .fail(let e):
                throw S3ErrorMapping.kopiaError(e, blobID: blobID, context: context)
            }
        }
    }

    private func backoff(_ attempt: Int, _ policy: S3RetryPolicy, _ generator: inout SystemRandomNumberGenerator,
                         _ operation: S3ServiceError.Operation, _ blobID: String?, reason: String) async throws(KopiaError) {
        let delay = policy.delay(afterAttempt: attempt, using: &generator)
        logger.debug("s3 request retry", metadata: [
            "s3.operation": "\(operation.rawValue)", "kopia.blob.id": "\(blobID ?? "")", "s3.attempt": "\(attempt)",
            "s3.reason": "\(reason)", "s3.delay": "\(delay)",
        ])
        do {
            try await Task.sleep(for: delay)
        } catch {
            throw KopiaError(.cancelled, "S3 \(operation.rawValue) cancelled while backing off", blobID: blobID)
        }
    }

    private var context: S3ErrorMapping.Context {
        S3ErrorMapping.Context(location: configuration.location, endpoint: configuration.endpoint,
                               region: currentRegion, redactedAccessKeyID: configuration.credentials?.redactedAccessKeyID)
    }

    private func truncated(_ id: String, offset: Int64, length: Int, size: Int64?) -> KopiaError {
        KopiaError(.truncatedData,
                   "S3 returned fewer bytes than asked for \(displayName): \(length) at offset \(offset)"
                       + (size.map { " of a \($0)-byte object" } ?? ""), blobID: id)
    }

    /// Parses an RFC 7231 IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
    static func httpDate(_ text: String) -> Date? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return f.date(from: text)
    }
}
