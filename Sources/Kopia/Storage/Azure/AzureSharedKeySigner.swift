internal import Foundation

/// Azure Storage Shared Key authorization for the Blob service, version 2015-02-21 and later (kopia-format.md
/// §18.4; Microsoft, "Authorize with Shared Key"; azblob `shared_key_credential.go`).
///
/// StringToSign = VERB `\n` then Content-Encoding, Content-Language, Content-Length (empty when 0), Content-MD5,
/// Content-Type, Date, If-Modified-Since, If-Match, If-None-Match, If-Unmodified-Since, Range — each followed by
/// `\n` — then CanonicalizedHeaders (`x-ms-*`, names lowercased, sorted, values trimmed with inner whitespace runs
/// folded, each `name:value\n`) then CanonicalizedResource (`/account/path-as-sent`, then for each query name
/// sorted, lowercased, `\nname:decoded values joined by ,`). Signature = Base64(HMAC-SHA256(key, StringToSign)).
/// Pure; thread-safe.
struct AzureSharedKeySigner: Sendable {
    var account: String
    var key: [UInt8]

    static let standardHeaders = ["content-encoding", "content-language", "content-length", "content-md5",
                                  "content-type", "date", "if-modified-since", "if-match", "if-none-match",
                                  "if-unmodified-since", "range"]

    /// The StringToSign for a request. `path` is the URL path exactly as sent (percent-encoded); `query` the raw
    /// query string without `?` (percent-encoded).
    func stringToSign(method: String, path: String, query: String, headers: [(name: String, value: String)]) -> String {
        func header(_ name: String) -> String {
            headers.first { $0.name.lowercased() == name }?.value ?? ""
        }
        var out = method.uppercased() + "\n"
        for name in Self.standardHeaders {
            var value = header(name)
            if name == "content-length", value == "0" { value = "" }
            out += value + "\n"
        }
        var msHeaders: [String: [String]] = [:]
        for (name, value) in headers where name.lowercased().hasPrefix("x-ms-") {
            msHeaders[name.lowercased(), default: []].append(Self.fold(value))
        }
        for name in msHeaders.keys.sorted() {
            out += "\(name):\(msHeaders[name, default: []].joined(separator: ","))\n"
        }
        out += "/\(account)\(path.isEmpty ? "/" : path)"
        var params: [String: [String]] = [:]
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = (String(parts[0]).removingPercentEncoding ?? String(parts[0])).lowercased()
            let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
            params[name, default: []].append(value)
        }
        for name in params.keys.sorted() {
            out += "\n\(name):\(params[name, default: []].sorted().joined(separator: ","))"
        }
        return out
    }

    /// `Authorization: SharedKey <account>:<signature>` for the request.
    func authorization(method: String, path: String, query: String, headers: [(name: String, value: String)]) -> String {
        let text = stringToSign(method: method, path: path, query: query, headers: headers)
        return "SharedKey \(account):\(Base64.encode(S3Digest.hmacSHA256(key: key, Array(text.utf8))))"
    }

    /// Runs of whitespace become one space; leading and trailing whitespace go.
    static func fold(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }

    /// RFC 1123 date for `x-ms-date` (`Fri, 26 Jun 2015 23:39:12 GMT`).
    static func httpDate(epochSeconds: Int64) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(epochSeconds)))
    }
}
