/// Builds the S3 requests the storage makes, and signs them.
///
/// Object key = prefix + blob ID is the caller's business; this type maps keys to URLs (path-style
/// `/bucket/key` or virtual-hosted `bucket.host/key`, the key URI-encoded with `/` kept), and adds the headers S3
/// needs: `Range` for ranged reads, `Content-MD5`, `Content-Type: application/x-kopia` and the payload hash for
/// uploads (kopia-format.md §1.3), the ListObjectsV2 query. Pure; thread-safe.
struct S3RequestBuilder: Sendable {
    var endpoint: S3Endpoint
    var bucket: String
    var addressingStyle: S3Configuration.AddressingStyle

    /// Content type Kopia stores blobs with.
    static let blobContentType = "application/x-kopia"

    private func target(key: String?) -> (host: String, path: String) {
        let encodedKey = key.map { S3URIEncoding.encode($0, keepSlash: true) }
        switch addressingStyle {
        case .path:
            return (endpoint.hostHeader, "/\(bucket)" + (encodedKey.map { "/" + $0 } ?? ""))
        case .virtualHosted:
            return ("\(bucket).\(endpoint.hostHeader)", "/" + (encodedKey ?? ""))
        }
    }

    private func request(_ method: String, key: String?, query: [(name: String, value: String)] = [],
                         body: [UInt8]? = nil) -> S3Request {
        let t = target(key: key)
        return S3Request(method: method, scheme: endpoint.scheme, host: t.host, path: t.path, query: query, body: body)
    }

    /// GET of a whole object, or of `length` bytes from `offset` (`Range: bytes=offset-(offset+length-1)`).
    func getObject(key: String, offset: Int64? = nil, length: Int? = nil) -> S3Request {
        var r = request("GET", key: key)
        if let offset, let length, length > 0 {
            r.setHeader("Range", "bytes=\(offset)-\(offset + Int64(length) - 1)")
        }
        return r
    }

    func headObject(key: String) -> S3Request { request("HEAD", key: key) }

    func deleteObject(key: String) -> S3Request { request("DELETE", key: key) }

    /// A single PUT (no multipart, as Kopia) with `Content-MD5` so the server rejects a damaged upload.
    func putObject(key: String, body: [UInt8]) -> S3Request {
        var r = request("PUT", key: key, body: body)
        r.setHeader("Content-Type", Self.blobContentType)
        r.setHeader("Content-MD5", Base64.encode(S3Digest.md5(body)))
        return r
    }

    /// One page of ListObjectsV2 under `prefix`.
    func listObjectsV2(prefix: String, continuationToken: String?, maxKeys: Int = 1000) -> S3Request {
        var query: [(name: String, value: String)] = [("list-type", "2"), ("prefix", prefix), ("max-keys", "\(maxKeys)")]
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        return request("GET", key: nil, query: query)
    }

    /// PUT bucket (used by tests and repository creation); a `LocationConstraint` body outside us-east-1.
    func createBucket(region: String) -> S3Request {
        guard region != "us-east-1" else { return request("PUT", key: nil, body: []) }
        let xml = "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            + "<LocationConstraint>\(region)</LocationConstraint></CreateBucketConfiguration>"
        return request("PUT", key: nil, body: Array(xml.utf8))
    }

    /// Adds `x-amz-content-sha256` (the SHA-256 of the body) and signs with `signer` at `epochSeconds`.
    /// Without a signer (anonymous access) only the payload hash is added.
    static func sign(_ request: inout S3Request, signer: SigV4Signer?, epochSeconds: Int64) {
        let payloadHash = request.body.map { Hex.encode(S3Digest.sha256($0)) } ?? SigV4Signer.emptyPayloadHash
        request.setHeader("x-amz-content-sha256", payloadHash)
        guard let signer else {
            request.setHeader("Host", request.host)
            return
        }
        signer.sign(&request, payloadHash: payloadHash, date: SigV4Signer.amzDate(epochSeconds: epochSeconds))
    }
}

/// Standard Base64 (RFC 4648 §4, with padding), for `Content-MD5`.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 2 < bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)],
                    alphabet[Int(n & 63)]]
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let n = UInt32(bytes[i]) << 16
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
        } else if rest == 2 {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)],
                    UInt8(ascii: "=")]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
