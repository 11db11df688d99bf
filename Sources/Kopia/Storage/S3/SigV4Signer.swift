/// AWS Signature Version 4 in the `Authorization` header (header-based signing with a payload hash).
///
/// Algorithm (AWS "Create a signed AWS API request"): canonical request = method, canonical URI (the request's
/// already-encoded path; S3 does not encode twice), canonical query, canonical headers (lowercased names, trimmed
/// values with inner whitespace runs collapsed, sorted, duplicates joined by `,`), the signed-header list, and the
/// payload hash; string to sign = `AWS4-HMAC-SHA256`, the `x-amz-date`, the scope `date/region/service/aws4_request`
/// and SHA-256 of the canonical request; signing key = HMAC chain `"AWS4"+secret` → date → region → service →
/// `aws4_request`. Every header present on the request is signed (the builder adds only headers it means to sign).
/// Pure and thread-safe; the clock is the caller's.
struct SigV4Signer: Sendable {
    var credentials: S3Credentials
    var region: String
    var service: String

    init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// SHA-256 of the empty payload, in hex.
    static let emptyPayloadHash = Hex.encode(S3Digest.sha256([UInt8]()))

    /// Intermediate values, exposed so tests can compare each step with AWS's published examples.
    struct Signature: Sendable {
        var canonicalRequest: String
        var stringToSign: String
        var signedHeaders: String
        var signature: String
        var authorization: String
    }

    /// Signs `request` in place: sets `Host`, `x-amz-date`, `x-amz-security-token` (when there is a session token)
    /// and `Authorization`. `x-amz-content-sha256` is the caller's (S3 requires it; other services do not).
    @discardableResult
    func sign(_ request: inout S3Request, payloadHash: String, date amzDate: String) -> Signature {
        request.setHeader("Host", request.host)
        request.setHeader("x-amz-date", amzDate)
        if let token = credentials.sessionToken { request.setHeader("x-amz-security-token", token) }
        request.headers.removeAll { $0.name.lowercased() == "authorization" }
        let result = signature(for: request, payloadHash: payloadHash, amzDate: amzDate)
        request.setHeader("Authorization", result.authorization)
        return result
    }

    /// Computes the signature of `request` as it stands, without changing it.
    func signature(for request: S3Request, payloadHash: String, amzDate: String) -> Signature {
        let dateStamp = String(amzDate.prefix(8))
        var grouped: [String: [String]] = [:]
        for (name, value) in request.headers {
            grouped[name.lowercased(), default: []].append(Self.canonicalValue(value))
        }
        let names = grouped.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(grouped[$0, default: []].joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let canonicalRequest = [request.method, request.path, request.encodedQuery, canonicalHeaders, signedHeaders,
                                payloadHash].joined(separator: "\n")
        let scope = "\(dateStamp)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope,
                            Hex.encode(S3Digest.sha256(Array(canonicalRequest.utf8)))].joined(separator: "\n")
        var key = S3Digest.hmacSHA256(key: Array("AWS4\(credentials.secretAccessKey)".utf8), Array(dateStamp.utf8))
        key = S3Digest.hmacSHA256(key: key, Array(region.utf8))
        key = S3Digest.hmacSHA256(key: key, Array(service.utf8))
        key = S3Digest.hmacSHA256(key: key, Array("aws4_request".utf8))
        let signature = Hex.encode(S3Digest.hmacSHA256(key: key, Array(stringToSign.utf8)))
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return Signature(canonicalRequest: canonicalRequest, stringToSign: stringToSign, signedHeaders: signedHeaders,
                         signature: signature, authorization: authorization)
    }

    /// Trims a header value and collapses inner runs of spaces and tabs to one space.
    static func canonicalValue(_ value: String) -> String {
        var out = [UInt8]()
        var pendingSpace = false
        for c in value.utf8 {
            if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(UInt8(ascii: " ")) }
                pendingSpace = false
                out.append(c)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `YYYYMMDDThhmmssZ` for a time in seconds since the Unix epoch (UTC; no formatter, no locale).
    static func amzDate(epochSeconds: Int64) -> String {
        let (days, secs) = CivilDate.split(epochSeconds: epochSeconds)
        let (year, month, day) = CivilDate.date(days: days)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(year)\(two(month))\(two(day))T\(two(secs / 3600))\(two(secs % 3600 / 60))\(two(secs % 60))Z"
    }
}
