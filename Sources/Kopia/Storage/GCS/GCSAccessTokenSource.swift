internal import CurlHTTP
internal import Foundation
public import Logging
import Synchronization

/// OAuth 2.0 access tokens for a service account (JWT bearer flow, kopia-format.md §18.5), cached and refreshed
/// before they expire.
///
/// Contract:
/// - **Caching.** A token is reused until fewer than `refreshMargin` seconds of its `expires_in` remain; then the
///   next caller exchanges a fresh assertion. Concurrent callers share one exchange (single flight).
/// - **Invalidation.** `invalidate(_:)` drops a token the storage service rejected (401), so the next call
///   exchanges anew.
/// - **Errors.** A refused exchange (`invalid_grant`, `invalid_client`, unknown key, skewed clock) is a permanent
///   `KopiaError` naming the service account and `GOOGLE_APPLICATION_CREDENTIALS`; transport failures and 5xx are
///   transient (the storage's retry loop repeats the whole request). Tokens and keys never appear in errors or logs.
/// - **Clock.** `now` (seconds since the Unix epoch) is injected.
final class GCSAccessTokenSource: Sendable {
    struct Token: Sendable {
        var value: String
        var expires: Int64
    }

    private struct State {
        var cached: Token?
        var inFlight: Task<Token, any Error>?
        var exchanges = 0
    }

    let key: GCSServiceAccountKey
    let scopes: [String]
    let refreshMargin: Int64
    private let signer: RSASHA256Signer
    private let client: HTTPClient
    private let now: @Sendable () -> Int64
    private let logger: Logger
    private let state = Mutex(State())

    /// - Throws: `KopiaError.invalidArgument` when the private key does not load.
    init(key: GCSServiceAccountKey, scopes: [String], client: HTTPClient, logger: Logger,
         refreshMargin: Int64 = 60, now: @escaping @Sendable () -> Int64) throws(KopiaError) {
        self.key = key
        self.scopes = scopes
        self.refreshMargin = refreshMargin
        self.signer = try RSASHA256Signer(pem: key.privateKeyPEM, source: "the service-account key of \(key.clientEmail)")
        self.client = client
        self.now = now
        self.logger = logger
    }

    /// How many assertions were exchanged so far (for tests and logs).
    var exchangeCount: Int { state.withLock { $0.exchanges } }

    /// A valid access token, from the cache or a fresh exchange.
    func token() async throws(KopiaError) -> String {
        let current = now()
        let task: Task<Token, any Error> = state.withLock { s in
            if let t = s.cached, current < t.expires - refreshMargin {
                return Task { t }
            }
            if let running = s.inFlight { return running }
            s.exchanges += 1
            let started = Task { try await self.exchange() }
            s.inFlight = started
            return started
        }
        do {
            let token = try await task.value
            state.withLock { s in
                if s.inFlight == task {
                    s.inFlight = nil
                    s.cached = token
                }
            }
            return token.value
        } catch {
            state.withLock { s in if s.inFlight == task { s.inFlight = nil } }
            if let e = error as? KopiaError { throw e }
            throw KopiaError(.cancelled, "GCS token exchange for \(key.clientEmail) cancelled")
        }
    }

    /// Forgets `token` if it is the cached one (the service rejected it).
    func invalidate(_ token: String) {
        state.withLock { s in if s.cached?.value == token { s.cached = nil } }
    }

    private func exchange() async throws(KopiaError) -> Token {
        let issued = now()
        let assertion = try GCSJSONWebToken.assertion(key: key, signer: signer, scopes: scopes, now: issued)
        let body = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + assertion
        let request = HTTPRequest(method: .post, url: key.tokenURI,
                                  headers: ["Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"],
                                  body: Array(body.utf8), timeout: .seconds(60))
        let response: HTTPResponse
        do {
            response = try await client.execute(request)
        } catch {
            if error.code == .cancelled {
                throw KopiaError(.cancelled, "GCS token exchange for \(key.clientEmail) cancelled")
            }
            throw KopiaError(.storageFailure,
                             "cannot reach the OAuth token endpoint \(HTTPErrorText.redact(key.tokenURI)) for \(key.clientEmail): \(error.code): \(error.message)",
                             retry: error.retry == .transient ? .transient : .permanent, cause: error)
        }
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        guard response.status == 200 else {
            let code = json?["error"] as? String
            let detail = json?["error_description"] as? String
            let transient = [408, 429, 500, 502, 503, 504].contains(response.status)
            logger.debug("gcs token exchange refused", metadata: [
                "gcs.client_email": "\(key.clientEmail)", "http.status": "\(response.status)",
                "oauth.error": "\(code ?? "")",
            ])
            throw KopiaError(.storageFailure,
                             "the OAuth token endpoint \(HTTPErrorText.redact(key.tokenURI)) refused service account \(key.clientEmail) with HTTP \(response.status)"
                                 + (code.map { " \($0)" } ?? "") + (detail.map { ": \($0)" } ?? "")
                                 + (transient ? "" : "; the key in GOOGLE_APPLICATION_CREDENTIALS is wrong, disabled or deleted, or this machine's clock is off"),
                             retry: transient ? .transient : .permanent)
        }
        guard let value = json?["access_token"] as? String, !value.isEmpty else {
            throw KopiaError(.storageFailure,
                             "the OAuth token endpoint \(HTTPErrorText.redact(key.tokenURI)) answered without an access_token")
        }
        let lifetime = (json?["expires_in"] as? NSNumber)?.int64Value ?? 3600
        logger.debug("gcs access token obtained", metadata: [
            "gcs.client_email": "\(key.clientEmail)", "gcs.token.lifetime": "\(lifetime)",
        ])
        return Token(value: value, expires: issued + max(0, lifetime))
    }
}

/// URL redaction for messages (query and user info dropped), as `HTTPError` does for its own URLs.
enum HTTPErrorText {
    static func redact(_ url: String) -> String {
        var u = url
        if let q = u.firstIndex(where: { $0 == "?" || $0 == "#" }) { u = String(u[..<q]) }
        if let schemeEnd = u.range(of: "://"), let at = u[schemeEnd.upperBound...].firstIndex(of: "@"),
           !u[schemeEnd.upperBound..<at].contains("/") {
            u = String(u[..<schemeEnd.upperBound]) + String(u[u.index(after: at)...])
        }
        return u
    }
}
