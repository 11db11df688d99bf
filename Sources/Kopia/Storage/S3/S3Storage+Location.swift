public import CurlHTTP
public import Logging

extension S3Storage {
    /// Opens the repository storage at `s3://bucket/prefix` with settings from `environment` (VolSync's
    /// `kopia-config` names: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`,
    /// `AWS_S3_ENDPOINT`, `AWS_CA_BUNDLE`) and `overrides` (the `--s3-…` flags). No request is made.
    ///
    /// This is the one call a repository-location parser needs for its `s3://` case.
    /// - Throws: `KopiaError.invalidArgument` for a malformed location or endpoint, half a credential pair, or an
    ///   unreadable CA file.
    public convenience init(bucket: String, prefix: String, environment: [String: String],
                            overrides: S3Configuration.Overrides = S3Configuration.Overrides(),
                            httpClient: HTTPClient, logger: Logger) throws(KopiaError) {
        let configuration = try S3Configuration.resolve(location: S3Location(bucket: bucket, prefix: prefix),
                                                        environment: environment, overrides: overrides)
        try self.init(configuration: configuration, httpClient: httpClient, logger: logger)
    }
}
