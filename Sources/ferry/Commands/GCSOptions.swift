import ArgumentParser
import Kopia

/// The `--gcs-…` flags of every command that opens a repository. The key normally comes from
/// `GOOGLE_APPLICATION_CREDENTIALS` (the JSON itself, as VolSync's Secret holds it, or a path); the flag takes a
/// path only, so the key never appears in process listings.
struct GCSOptions: ParsableArguments {
    @Option(name: .customLong("gcs-credentials-file"),
            help: ArgumentHelp("Service-account key file for gcs:// repositories (default: $GOOGLE_APPLICATION_CREDENTIALS, JSON or a path).",
                               valueName: "PATH"))
    var credentialsFile: String?

    @Option(name: .customLong("gcs-endpoint"),
            help: ArgumentHelp("GCS JSON-API endpoint, http[s]://host[:port], still authenticated (default: https://storage.googleapis.com; $STORAGE_EMULATOR_HOST selects an unauthenticated emulator).",
                               valueName: "URL"))
    var endpoint: String?

    var overrides: GCSConfiguration.Overrides {
        GCSConfiguration.Overrides(endpoint: endpoint, credentialsFile: credentialsFile)
    }
}
