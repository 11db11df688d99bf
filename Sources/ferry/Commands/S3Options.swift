import ArgumentParser
import Kopia

/// The `--s3-…` flags of every command that opens a repository. Each flag overrides its environment variable
/// (`AWS_S3_ENDPOINT`, `AWS_REGION`, `AWS_CA_BUNDLE`); credentials come only from the environment
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), never from flags, so they stay out of
/// process listings and shell history.
struct S3Options: ParsableArguments {
    @Option(name: .customLong("s3-endpoint"),
            help: ArgumentHelp("S3 endpoint, http[s]://host[:port] (default: $AWS_S3_ENDPOINT, else AWS).",
                               valueName: "URL"))
    var endpoint: String?

    @Option(name: .customLong("s3-region"),
            help: ArgumentHelp("S3 signing region (default: $AWS_REGION, else us-east-1).", valueName: "REGION"))
    var region: String?

    @Option(name: .customLong("s3-ca-file"),
            help: ArgumentHelp("PEM CA bundle that verifies an https endpoint (default: $AWS_CA_BUNDLE, else the system bundle).",
                               valueName: "PATH"))
    var caFile: String?

    @Flag(name: .customLong("s3-path-style"), inversion: .prefixedNo,
          help: "Address the bucket in the path (default for custom endpoints) or as a virtual host (AWS default).")
    var pathStyle: Bool?

    @Option(name: .customLong("s3-max-requests"),
            help: ArgumentHelp("S3 requests in flight at once (default 16).", valueName: "N"))
    var maxRequests: Int?

    /// The overrides to hand to `S3Configuration.resolve` / `S3Storage(bucket:prefix:environment:overrides:httpClient:logger:)`.
    var overrides: S3Configuration.Overrides {
        S3Configuration.Overrides(endpoint: endpoint, region: region, caFile: caFile, pathStyle: pathStyle,
                                  maxConcurrentRequests: maxRequests)
    }
}
