public import CurlHTTP
import Kopia
import Logging

/// The one HTTP client every S3 test of a test process shares, as the CLI and the controller share theirs: storages
/// never own a client, and their CA settings travel per request.
public enum SharedTestHTTPClient {
    private static let made: Result<HTTPClient, HTTPError> = Result { () throws(HTTPError) -> HTTPClient in
        try HTTPClient(configuration: S3Storage.sharedClientConfiguration, logger: Logger(label: "test.http"))
    }

    public static func client() throws -> HTTPClient { try made.get() }
}
