import CurlHTTP
import Kopia
import Logging

/// The one HTTP client of a `ferry` process: every S3 repository the command opens shares its libcurl thread and
/// connection cache (issue 17 item 2). Created on first use, so commands on filesystem repositories start no
/// thread; it lives until the process exits.
enum ProcessHTTPClient {
    private static let made: Result<HTTPClient, HTTPError> = Result { () throws(HTTPError) -> HTTPClient in
        try HTTPClient(configuration: S3Storage.sharedClientConfiguration, logger: Logger(label: "ferry.http"))
    }

    /// - Throws: `HTTPError` when libcurl cannot start.
    static func shared() throws -> HTTPClient { try made.get() }
}
