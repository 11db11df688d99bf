import ArgumentParser
import CurlHTTP
import FerryControllers
import Logging

/// `ferry controller`'s flags for Kopia populating (issue 13): where populator pods run and with which image.
struct PopulatorOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Namespace of populator pods, prime PVCs and their short-lived credentials Secrets (default: --namespace).",
                               valueName: "NAMESPACE"))
    var workNamespace: String?

    @Option(help: ArgumentHelp("Image of the populator pods, which run `ferry populate` (the chart passes its own image).",
                               valueName: "IMAGE"))
    var populatorImage = "ghcr.io/ferry-csi/ferry:0.1.0"

    @Option(help: ArgumentHelp("imagePullPolicy of the populator pods (default: the cluster's).", valueName: "POLICY"))
    var populatorPullPolicy: String?

    @Option(help: ArgumentHelp("Seconds between `ferry populate` progress reports.", valueName: "S"))
    var populatorProgressInterval: Double = 2

    @Option(help: ArgumentHelp("How old an opened repository's index may get before it is re-read (new snapshots appear).",
                               valueName: "DURATION"))
    var repositoryRefreshInterval = "15s"

    func validate() throws {
        if populatorImage.isEmpty { throw ValidationError("--populator-image must not be empty") }
        if let p = populatorPullPolicy, !["Always", "IfNotPresent", "Never"].contains(p) {
            throw ValidationError("--populator-pull-policy must be Always, IfNotPresent or Never")
        }
        guard populatorProgressInterval > 0, populatorProgressInterval <= 3600 else {
            throw ValidationError("--populator-progress-interval must be between 0 and 3600 seconds")
        }
    }

    /// The populator for `ferry controller`, sharing one S3 client for every repository it opens.
    func makePopulator(namespace: String, logger: Logger) throws -> KopiaPopulator {
        guard let refresh = GoDuration.parse(repositoryRefreshInterval), refresh >= .zero else {
            throw ValidationError("--repository-refresh-interval: invalid duration \(repositoryRefreshInterval) (use Go syntax: 15s, 1m)")
        }
        let settings = PopulatorObjects.Settings(workNamespace: workNamespace ?? namespace, image: populatorImage,
                                                 imagePullPolicy: populatorPullPolicy,
                                                 progressInterval: populatorProgressInterval)
        return KopiaPopulator(settings: settings,
                              repositories: RepositoryCache(refreshInterval: refresh, httpClient: try ProcessHTTPClient.shared(),
                                                            logger: logger))
    }
}
