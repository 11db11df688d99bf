@testable import CurlHTTP
import Testing

/// libcurl failures are classified from `CURLcode` and errno only (curl.h values, errno from Linux).
struct CurlErrorClassificationTests {
    struct Row: Sendable, CustomStringConvertible {
        var curlCode: Int
        var osErrno: Int
        var expected: HTTPError.Code
        var description: String { "CURLcode \(curlCode), errno \(osErrno)" }
    }

    static let rows: [Row] = [
        Row(curlCode: 6, osErrno: 0, expected: .dns),                  // COULDNT_RESOLVE_HOST
        Row(curlCode: 28, osErrno: 0, expected: .timeout),             // OPERATION_TIMEDOUT
        Row(curlCode: 7, osErrno: 111, expected: .connectionRefused),  // COULDNT_CONNECT, ECONNREFUSED
        Row(curlCode: 7, osErrno: 110, expected: .timeout),            // COULDNT_CONNECT, ETIMEDOUT
        Row(curlCode: 35, osErrno: 104, expected: .connectionReset),   // SSL_CONNECT_ERROR, ECONNRESET
        Row(curlCode: 35, osErrno: 0, expected: .tls),                 // SSL_CONNECT_ERROR
        Row(curlCode: 60, osErrno: 0, expected: .tls),                 // PEER_FAILED_VERIFICATION
        Row(curlCode: 55, osErrno: 0, expected: .connectionReset),     // SEND_ERROR
        Row(curlCode: 56, osErrno: 0, expected: .connectionReset),     // RECV_ERROR
        Row(curlCode: 52, osErrno: 0, expected: .connectionReset),     // GOT_NOTHING
        Row(curlCode: 3, osErrno: 0, expected: .invalidRequest),       // URL_MALFORMAT
        Row(curlCode: 42, osErrno: 0, expected: .cancelled),           // ABORTED_BY_CALLBACK
        Row(curlCode: 92, osErrno: 0, expected: .connectionReset),     // HTTP2_STREAM
        Row(curlCode: 23, osErrno: 0, expected: .transport),           // WRITE_ERROR
    ]

    @Test(arguments: rows)
    func failuresAreClassifiedFromCurlCodeAndErrnoNotText(_ row: Row) {
        #expect(CurlTransfer.classify(curlCode: row.curlCode, osErrno: row.osErrno) == row.expected)
    }

    @Test func retryClassFollowsTheCode() {
        #expect(HTTPError(.connectionReset, "SSL routines::tlsv13 alert certificate required").retry == .transient)
        #expect(HTTPError(.tls, "").retry == .permanent)
        #expect(RetryClass.of(HTTPError(.timeout, "")) == .transient)
    }
}
