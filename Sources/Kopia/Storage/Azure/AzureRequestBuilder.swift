internal import CurlHTTP

/// Builds and authorizes the Blob-service requests the storage makes (kopia-format.md §18.3): Get Blob with
/// `x-ms-range`, Get Blob Properties (`HEAD`), List Blobs (flat, `include=metadata`, `marker`), Put Blob as one
/// block blob, Delete Blob, Create Container.
///
/// Blob URL = service URL + `/<container>/<prefix+blobID>`, the name percent-encoded with `/` kept. Every request
/// carries `x-ms-date` and `x-ms-version`; Shared Key signs it (`AzureSharedKeySigner`), a SAS is appended to the
/// query and nothing is signed. Pure; thread-safe.
struct AzureRequestBuilder: Sendable {
    var configuration: AzureConfiguration
    /// The REST version Ferry speaks (Put Blob, List Blobs and Shared Key are unchanged across later versions).
    static let version = "2021-08-06"

    private struct Unsigned {
        var method: HTTPMethod
        var path: String
        var query: [(String, String)]
        var headers: [(name: String, value: String)]
        var body: [UInt8]?
    }

    private func blobPath(_ name: String) -> String {
        "/\(configuration.location.container)/\(S3URIEncoding.encode(name, keepSlash: true))"
    }

    func getBlob(_ name: String, offset: Int64? = nil, length: Int? = nil, epochSeconds: Int64) -> HTTPRequest {
        var headers: [(name: String, value: String)] = []
        if let offset, let length, length > 0 {
            headers.append(("x-ms-range", "bytes=\(offset)-\(offset + Int64(length) - 1)"))
        }
        return finish(Unsigned(method: .get, path: blobPath(name), query: [], headers: headers), epochSeconds)
    }

    func blobProperties(_ name: String, epochSeconds: Int64) -> HTTPRequest {
        finish(Unsigned(method: .head, path: blobPath(name), query: [], headers: []), epochSeconds)
    }

    func listBlobs(prefix: String, marker: String?, epochSeconds: Int64) -> HTTPRequest {
        var query = [("restype", "container"), ("comp", "list"), ("prefix", prefix), ("include", "metadata")]
        if let marker { query.append(("marker", marker)) }
        return finish(Unsigned(method: .get, path: "/\(configuration.location.container)", query: query, headers: []),
                      epochSeconds)
    }

    /// One Put Blob of the whole body as a block blob. kopia sends no content type (the service then stores
    /// `application/octet-stream`); Ferry names that type explicitly, because libcurl would otherwise add its form
    /// content type to a request body, unsigned.
    func putBlob(_ name: String, body: [UInt8], epochSeconds: Int64) -> HTTPRequest {
        finish(Unsigned(method: .put, path: blobPath(name), query: [],
                        headers: [("x-ms-blob-type", "BlockBlob"), ("Content-Length", "\(body.count)"),
                                  ("Content-Type", Self.bodyContentType)], body: body),
               epochSeconds)
    }

    static let bodyContentType = "application/octet-stream"

    func deleteBlob(_ name: String, epochSeconds: Int64) -> HTTPRequest {
        finish(Unsigned(method: .delete, path: blobPath(name), query: [], headers: []), epochSeconds)
    }

    func createContainer(epochSeconds: Int64) -> HTTPRequest {
        finish(Unsigned(method: .put, path: "/\(configuration.location.container)", query: [("restype", "container")],
                        headers: [("Content-Length", "0"), ("Content-Type", Self.bodyContentType)], body: []),
               epochSeconds)
    }

    private func finish(_ r: Unsigned, _ epochSeconds: Int64) -> HTTPRequest {
        var headers = r.headers
        headers.append(("x-ms-date", AzureSharedKeySigner.httpDate(epochSeconds: epochSeconds)))
        headers.append(("x-ms-version", Self.version))
        var query = r.query.map { "\(S3URIEncoding.encode($0.0))=\(S3URIEncoding.encode($0.1))" }.joined(separator: "&")
        switch configuration.credentials {
        case .sharedKey(let key):
            let signer = AzureSharedKeySigner(account: configuration.account, key: key)
            headers.append(("Authorization", signer.authorization(method: r.method.rawValue, path: r.path, query: query,
                                                                  headers: headers)))
        case .sas(let token):
            if !token.isEmpty { query = query.isEmpty ? token : query + "&" + token }
        }
        return HTTPRequest(method: r.method, url: configuration.serviceURL + r.path + (query.isEmpty ? "" : "?" + query),
                           headers: HTTPHeaders(headers.map { ($0.name, $0.value) }), body: r.body)
    }
}
