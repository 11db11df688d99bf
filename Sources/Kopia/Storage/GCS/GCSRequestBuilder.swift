internal import CurlHTTP

/// Builds the GCS JSON-API requests the storage makes (kopia-format.md §18.2), without credentials.
///
/// Every call goes through the JSON API (`/storage/v1/…`, uploads under `/upload/storage/v1/…`); media reads use
/// `?alt=media` with a `Range` header. kopia's Go client reads through the XML API instead; the bytes are the same,
/// and the JSON form works unchanged through emulators and proxies whose host name differs from the public one.
/// Object names in paths are percent-encoded including `/` (`%2F`). Pure; thread-safe.
struct GCSRequestBuilder: Sendable {
    var endpoint: S3Endpoint
    var bucket: String

    /// Content type kopia stores blobs with.
    static let blobContentType = "application/x-kopia"

    private var base: String { "\(endpoint)/storage/v1/b/\(S3URIEncoding.encode(bucket))" }

    private func objectURL(_ name: String, query: [(String, String)] = []) -> String {
        "\(base)/o/\(S3URIEncoding.encode(name))" + Self.query(query)
    }

    static func query(_ items: [(String, String)]) -> String {
        items.isEmpty ? "" : "?" + items.map { "\(S3URIEncoding.encode($0.0))=\(S3URIEncoding.encode($0.1))" }
            .joined(separator: "&")
    }

    /// The whole object, or `length` bytes from `offset` (`Range: bytes=offset-(offset+length-1)`).
    func media(_ name: String, offset: Int64? = nil, length: Int? = nil) -> HTTPRequest {
        var r = HTTPRequest(method: .get, url: objectURL(name, query: [("alt", "media")]))
        if let offset, let length, length > 0 {
            r.headers.set("Range", "bytes=\(offset)-\(offset + Int64(length) - 1)")
        }
        return r
    }

    /// The object resource (`size`, `timeCreated`, `metadata`).
    func metadata(_ name: String) -> HTTPRequest {
        HTTPRequest(method: .get, url: objectURL(name, query: [("fields", "name,size,timeCreated,metadata")]))
    }

    /// One page of objects under `prefix` (flat, no delimiter), at most `maxResults`.
    func list(prefix: String, pageToken: String?, maxResults: Int = 1000) -> HTTPRequest {
        var q = [("prefix", prefix), ("maxResults", "\(maxResults)"),
                 ("fields", "items(name,size,timeCreated,metadata),nextPageToken")]
        if let pageToken { q.append(("pageToken", pageToken)) }
        return HTTPRequest(method: .get, url: "\(base)/o" + Self.query(q))
    }

    /// A single-request `multipart/related` upload: the object resource (name, kopia's content type, metadata),
    /// then the bytes. `boundary` must not occur in `data` (the caller draws a random one).
    func upload(_ name: String, data: [UInt8], metadata: [String: String] = [:], boundary: String) -> HTTPRequest {
        var resource = "{\"name\":\(GCSJSONWebToken.jsonString(name)),\"contentType\":\"\(Self.blobContentType)\""
        if !metadata.isEmpty {
            resource += ",\"metadata\":{" + metadata.sorted { $0.key < $1.key }
                .map { "\(GCSJSONWebToken.jsonString($0.key)):\(GCSJSONWebToken.jsonString($0.value))" }
                .joined(separator: ",") + "}"
        }
        resource += "}"
        var body = Array("--\(boundary)\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n\(resource)\r\n--\(boundary)\r\nContent-Type: \(Self.blobContentType)\r\n\r\n".utf8)
        body.reserveCapacity(body.count + data.count + boundary.utf8.count + 8)
        body += data
        body += Array("\r\n--\(boundary)--\r\n".utf8)
        let url = "\(endpoint)/upload/storage/v1/b/\(S3URIEncoding.encode(bucket))/o"
            + Self.query([("uploadType", "multipart"), ("fields", "name,size")])
        return HTTPRequest(method: .post, url: url,
                           headers: ["Content-Type": "multipart/related; boundary=\(boundary)"], body: body)
    }

    func delete(_ name: String) -> HTTPRequest { HTTPRequest(method: .delete, url: objectURL(name)) }

    /// The bucket resource (used once to tell a missing bucket from a missing object).
    func bucketResource() -> HTTPRequest { HTTPRequest(method: .get, url: base + Self.query([("fields", "name")])) }

    /// A `POST /storage/v1/b` creating the bucket (tests and emulators).
    func createBucket(project: String = "ferry") -> HTTPRequest {
        HTTPRequest(method: .post, url: "\(endpoint)/storage/v1/b" + Self.query([("project", project)]),
                    headers: ["Content-Type": "application/json"],
                    body: Array("{\"name\":\(GCSJSONWebToken.jsonString(bucket))}".utf8))
    }
}
