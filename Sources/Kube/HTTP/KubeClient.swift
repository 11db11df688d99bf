public import CurlHTTP
public import Logging
import Foundation

/// A Kubernetes API client: typed verbs over ``CurlHTTP``.
///
/// Contract: thread-safe and `Sendable`; every method may run concurrently. Errors are ``KubeError`` (API `Status`
/// decoded into typed codes). A 401 answer makes the client re-read a token file once and retry, so rotated
/// service-account tokens never surface as errors. No credential is ever logged.
public final class KubeClient: Sendable {
    public let config: KubeConfig
    let http: HTTPClient
    private let tokens: TokenSource
    let logger: Logger

    public init(config: KubeConfig, logger: Logger) throws(KubeError) {
        self.config = config
        self.logger = logger
        self.tokens = TokenSource(config.credentials)
        do {
            http = try HTTPClient(configuration: HTTPClientConfiguration(tls: config.tls, userAgent: config.userAgent),
                                  logger: logger)
        } catch {
            throw KubeError(.transport, "cannot start HTTP client: \(error.message)", transport: error)
        }
    }

    /// Stops the client's HTTP transport and waits until its thread has finished; requests in flight fail with a
    /// `.transport` error (`.shutdown`). Idempotent. See `HTTPClient.stop()`.
    public func stop() async { await http.stop() }

    // MARK: Transport

    struct Target {
        var resource: String?
        var namespace: String?
        var name: String?
    }

    static func query(_ items: [(String, String?)]) -> String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let parts = items.compactMap { k, v in
            v.map { "\(k)=\($0.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0)" }
        }
        return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
    }

    func buildRequest(method: HTTPMethod, path: String, query: [(String, String?)], body: [UInt8]?,
                      contentType: String?, timeout: Duration?, forceTokenReload: Bool) throws(KubeError) -> HTTPRequest {
        var headers: HTTPHeaders = ["Accept": "application/json"]
        if let contentType { headers.add("Content-Type", contentType) }
        if let token = try tokens.token(forceReload: forceTokenReload) { headers.add("Authorization", "Bearer \(token)") }
        return HTTPRequest(method: method, url: config.server + path + Self.query(query), headers: headers, body: body,
                           timeout: timeout)
    }

    /// Sends one request; non-2xx answers become ``KubeError``.
    func send(_ method: HTTPMethod, _ path: String, query: [(String, String?)] = [], body: JSONValue? = nil,
              contentType: String? = nil, target: Target) async throws(KubeError) -> HTTPResponse {
        let bytes = body.map(JSONCoding.serialize)
        var response = try await execute(method, path, query, bytes, contentType ?? (bytes == nil ? nil : "application/json"),
                                         forceTokenReload: false, target: target)
        if response.status == 401, case .tokenFile = config.credentials {
            response = try await execute(method, path, query, bytes, contentType ?? (bytes == nil ? nil : "application/json"),
                                         forceTokenReload: true, target: target)
        }
        guard (200..<300).contains(response.status) else {
            throw KubeError.fromResponse(status: response.status, body: response.body,
                                         retryAfterHeader: response.headers["Retry-After"], resource: target.resource,
                                         namespace: target.namespace, name: target.name)
        }
        return response
    }

    private func execute(_ method: HTTPMethod, _ path: String, _ query: [(String, String?)], _ body: [UInt8]?,
                         _ contentType: String?, forceTokenReload: Bool, target: Target) async throws(KubeError) -> HTTPResponse {
        let request = try buildRequest(method: method, path: path, query: query, body: body, contentType: contentType,
                                       timeout: config.requestTimeout, forceTokenReload: forceTokenReload)
        do {
            return try await http.execute(request)
        } catch {
            throw KubeError(.transport, error.message, resource: target.resource, namespace: target.namespace,
                            name: target.name, transport: error)
        }
    }

    func decodeObject<T: KubeResource>(_ body: [UInt8], as: T.Type = T.self) throws(KubeError) -> T {
        do {
            guard let o = try JSONCoding.parse(body).object else { throw KubeError(.decoding, "response is not an object") }
            return T(object: o)
        } catch let e as KubeError { throw e } catch {
            throw KubeError(.decoding, "\(error)", resource: T.resourceType.plural)
        }
    }

    func namespaceFor<T: KubeResource>(_ type: T.Type, _ namespace: String?) -> String? {
        T.resourceType.namespaced ? (namespace ?? config.namespace) : nil
    }

    /// Sends any request to the API server and returns the JSON answer (escape hatch for kinds without a type).
    public func raw(_ method: HTTPMethod, path: String, query: [(String, String?)] = [], body: JSONValue? = nil,
                    contentType: String? = nil) async throws(KubeError) -> JSONValue {
        let r = try await send(method, path, query: query, body: body, contentType: contentType, target: Target())
        do { return try JSONCoding.parse(r.body) } catch { throw KubeError(.decoding, "\(error)") }
    }

    /// `GET /version`.
    public func serverVersion() async throws(KubeError) -> JSONObject {
        try await raw(.get, path: "/version").object ?? [:]
    }
}
