internal import CCurl
import Synchronization
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One request on one libcurl easy handle: owns the handle, the header list, the body and error buffers.
///
/// Lifecycle: built by the calling task, handed to the ``CurlMultiLoop``; from then on every field but
/// `cancelRequested` is touched only on the loop thread (the curl callbacks run there too).
final class CurlTransfer: @unchecked Sendable {  // @unchecked: loop-thread confinement after submit (see above)
    enum Delivery {
        case none
        case full(CheckedContinuation<HTTPResponse, any Error>)
        case stream(head: CheckedContinuation<(Int, HTTPHeaders), any Error>?,
                    body: AsyncThrowingStream<[UInt8], any Error>.Continuation)
    }

    let easy: UnsafeMutableRawPointer
    let redactedURL: String
    let method: HTTPMethod
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let bodyBuffer: UnsafeMutableRawBufferPointer?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    let cancelRequested = Atomic<Bool>(false)

    var delivery: Delivery = .none
    private var responseHeaders = HTTPHeaders()
    private var responseBody: [UInt8] = []
    private var finished = false
    /// Cap of a buffered (`.full`) body; exceeding it aborts the transfer (`.responseTooLarge`).
    private let maximumResponseBytes: Int
    private var bodyTooLarge = false

    init(request: HTTPRequest, configuration: HTTPClientConfiguration) throws(HTTPError) {
        CurlGlobal.initialize()
        redactedURL = HTTPError.redact(request.url)
        method = request.method
        maximumResponseBytes = max(0, request.maximumResponseBytes ?? configuration.maximumResponseBytes)
        guard let easy = curl_easy_init() else {
            throw HTTPError(.transport, "curl_easy_init failed", url: redactedURL)
        }
        self.easy = easy
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        if let body = request.body {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(body.count, 1), alignment: 1)
            body.withUnsafeBytes { src in
                if let base = src.baseAddress, let dst = buffer.baseAddress { dst.copyMemory(from: base, byteCount: src.count) }
            }
            bodyBuffer = buffer
        } else {
            bodyBuffer = nil
        }
        try configure(request: request, configuration: configuration)
    }

    deinit {
        curl_easy_cleanup(easy)
        if let headerList { curl_slist_free_all(headerList) }
        bodyBuffer?.deallocate()
        errorBuffer.deallocate()
    }

    // MARK: Setup (caller's task, before submit)

    private func check(_ code: CURLcode, _ what: String) throws(HTTPError) {
        guard code == CURLE_OK else {
            let text = String(cString: curl_easy_strerror(code))
            let kind: HTTPError.Code = what.hasPrefix("tls") ? .tls : .invalidRequest
            throw HTTPError(kind, "\(what): \(text)", url: redactedURL, curlCode: Int(code.rawValue))
        }
    }

    private func configure(request: HTTPRequest, configuration c: HTTPClientConfiguration) throws(HTTPError) {
        try check(ccurl_setopt_string(easy, CURLOPT_URL, request.url), "url")
        try check(ccurl_setopt_long(easy, CURLOPT_NOSIGNAL, 1), "nosignal")
        try check(ccurl_setopt_ptr(easy, CURLOPT_ERRORBUFFER, errorBuffer), "errorbuffer")
        try check(ccurl_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1), "keepalive")
        try check(ccurl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, max(1, c.connectTimeout.milliseconds)), "connect timeout")
        if let timeout = request.timeout ?? c.defaultTimeout {
            try check(ccurl_setopt_long(easy, CURLOPT_TIMEOUT_MS, max(1, timeout.milliseconds)), "timeout")
        }
        let version: Int = switch c.httpVersion {
        case .automatic: Int(CURL_HTTP_VERSION_2TLS)
        case .http1_1: Int(CURL_HTTP_VERSION_1_1)
        case .http2: Int(CURL_HTTP_VERSION_2_0)
        }
        try check(ccurl_setopt_long(easy, CURLOPT_HTTP_VERSION, version), "http version")
        if let path = c.unixSocketPath {
            try check(ccurl_setopt_string(easy, CURLOPT_UNIX_SOCKET_PATH, path), "unix socket")
        }
        try configureMethodAndBody(request)
        var list: UnsafeMutablePointer<curl_slist>? = nil
        var hasUserAgent = false
        for (name, value) in request.headers {
            if name.caseInsensitiveCompare("User-Agent") == .orderedSame { hasUserAgent = true }
            list = curl_slist_append(list, value.isEmpty ? "\(name);" : "\(name): \(value)")
        }
        if !hasUserAgent { list = curl_slist_append(list, "User-Agent: \(c.userAgent)") }
        list = curl_slist_append(list, "Expect:")  // no 100-continue round trip for bodies
        headerList = list
        try check(ccurl_setopt_slist(easy, CURLOPT_HTTPHEADER, list), "headers")
        try configureTLS(request.tls ?? c.tls)
        let me = Unmanaged.passUnretained(self).toOpaque()
        try check(ccurl_setopt_ptr(easy, CURLOPT_WRITEDATA, me), "writedata")
        try check(ccurl_setopt_ptr(easy, CURLOPT_HEADERDATA, me), "headerdata")
        try check(ccurl_setopt_write_cb(easy, curlWriteCallback), "write callback")
        try check(ccurl_setopt_header_cb(easy, curlHeaderCallback), "header callback")
    }

    private func configureMethodAndBody(_ request: HTTPRequest) throws(HTTPError) {
        switch request.method {
        case .get where bodyBuffer == nil: break
        case .head: try check(ccurl_setopt_long(easy, CURLOPT_NOBODY, 1), "head")
        default:
            if request.method != .post {
                try check(ccurl_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method.rawValue), "method")
            }
        }
        if let bodyBuffer, let base = bodyBuffer.baseAddress {
            let count = request.body?.count ?? 0
            try check(ccurl_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(count)), "body size")
            try check(ccurl_setopt_ptr(easy, CURLOPT_POSTFIELDS, base), "body")
        }
    }

    private func configureTLS(_ tls: TLSOptions) throws(HTTPError) {
        if tls.insecureSkipVerify {
            try check(ccurl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 0), "tls verifypeer")
            try check(ccurl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 0), "tls verifyhost")
        }
        try setMaterial(tls.certificateAuthority, file: CURLOPT_CAINFO, blob: CURLOPT_CAINFO_BLOB, "tls ca")
        try setMaterial(tls.clientCertificate, file: CURLOPT_SSLCERT, blob: CURLOPT_SSLCERT_BLOB, "tls client certificate")
        try setMaterial(tls.clientKey, file: CURLOPT_SSLKEY, blob: CURLOPT_SSLKEY_BLOB, "tls client key")
    }

    private func setMaterial(_ material: TLSMaterial?, file: CURLoption, blob: CURLoption, _ what: String) throws(HTTPError) {
        switch material {
        case nil: return
        case .file(let path): try check(ccurl_setopt_string(easy, file, path), what)
        case .pem(let bytes):
            let code = bytes.withUnsafeBytes { ccurl_setopt_blob(easy, blob, $0.baseAddress, $0.count) }
            try check(code, what)
        }
    }

    // MARK: Callbacks (loop thread)

    /// - Returns: false to abort the transfer (the buffered body would exceed its cap).
    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        switch delivery {
        case .full:
            guard bytes.count <= maximumResponseBytes - responseBody.count else {
                bodyTooLarge = true
                return false
            }
            responseBody.append(contentsOf: bytes)
        case .stream(let head, let body):
            if let head {
                delivery = .stream(head: nil, body: body)
                head.resume(returning: (responseCode(), responseHeaders))
            }
            _ = body.yield([UInt8](bytes))
        case .none: break
        }
        return true
    }

    func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        let line = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: ["\r", "\n"])
        if line.hasPrefix("HTTP/") {
            responseHeaders = HTTPHeaders()  // a new response (after 1xx): drop interim headers
        } else if let colon = line.firstIndex(of: ":") {
            let name = String(line[..<colon])
            let value = line[line.index(after: colon)...].trimmingCharacters(in: [" ", "\t"])
            responseHeaders.add(name, value)
        }
    }

    private func responseCode() -> Int {
        var code: Int = 0
        _ = ccurl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    /// Called once by the loop after the handle left the multi handle.
    func complete(_ result: CURLcode) {
        guard !finished else { return }
        if result == CURLE_OK {
            finished = true
            let status = responseCode()
            switch delivery {
            case .full(let c): c.resume(returning: HTTPResponse(status: status, headers: responseHeaders, body: responseBody))
            case .stream(let head, let body):
                head?.resume(returning: (status, responseHeaders))
                body.finish()
            case .none: break
            }
            delivery = .none
        } else {
            fail(mapError(result))
        }
    }

    func fail(_ error: HTTPError) {
        guard !finished else { return }
        finished = true
        switch delivery {
        case .full(let c): c.resume(throwing: error)
        case .stream(let head, let body):
            if let head { head.resume(throwing: error) }
            body.finish(throwing: error)
        case .none: break
        }
        delivery = .none
    }

    private func mapError(_ result: CURLcode) -> HTTPError {
        if bodyTooLarge {
            return HTTPError(.responseTooLarge, "response body exceeds the \(maximumResponseBytes)-byte limit",
                             url: redactedURL, curlCode: Int(result.rawValue))
        }
        var text = String(cString: errorBuffer)
        if text.isEmpty { text = String(cString: curl_easy_strerror(result)) }
        var osErrno: Int = 0
        _ = ccurl_getinfo_long(easy, CURLINFO_OS_ERRNO, &osErrno)
        let code = Self.classify(result, osErrno: osErrno)
        return HTTPError(code, text, url: redactedURL, curlCode: Int(result.rawValue))
    }

    /// The error code of a failed transfer, decided from the `CURLcode` and the socket's errno only (never from
    /// libcurl's message text). A connection that breaks mid-request is `.connectionReset` even when a peer
    /// rejecting a client certificate caused it: from the codes alone that case is indistinguishable from a reset.
    static func classify(curlCode: Int, osErrno: Int) -> HTTPError.Code {
        classify(CURLcode(rawValue: UInt32(truncatingIfNeeded: curlCode)), osErrno: osErrno)
    }

    static func classify(_ result: CURLcode, osErrno: Int) -> HTTPError.Code {
        switch result {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: return .dns
        case CURLE_OPERATION_TIMEDOUT: return .timeout
        case CURLE_COULDNT_CONNECT:
            return osErrno == Int(ETIMEDOUT) ? .timeout : osErrno == Int(ECONNREFUSED) ? .connectionRefused : .transport
        case CURLE_SSL_CONNECT_ERROR where osErrno == Int(ECONNRESET) || osErrno == Int(EPIPE):
            return .connectionReset  // the peer went away during the handshake: not a TLS verdict
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED,
             CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
             CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT, CURLE_USE_SSL_FAILED:
            return .tls
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM:
            return .connectionReset
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: return .invalidRequest
        case CURLE_ABORTED_BY_CALLBACK: return .cancelled
        default: return .transport
        }
    }
}

private func curlWriteCallback(_ ptr: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int,
                               _ user: UnsafeMutableRawPointer?) -> Int {
    guard let ptr, let user else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue()
    // Returning less than was handed over makes libcurl abort with CURLE_WRITE_ERROR.
    return transfer.receiveBody(UnsafeRawBufferPointer(start: ptr, count: size * count)) ? size * count : 0
}

private func curlHeaderCallback(_ ptr: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int,
                                _ user: UnsafeMutableRawPointer?) -> Int {
    guard let ptr, let user else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue()
    transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: ptr, count: size * count))
    return size * count
}

/// `curl_global_init` exactly once per process (Swift globals initialise once, thread-safely).
enum CurlGlobal {
    private static let done: Bool = { curl_global_init(ccurl_global_default()) == CURLE_OK }()
    static func initialize() { _ = done }
}
