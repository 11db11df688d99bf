import ArgumentParser
import FerryControllers
import Kube
import Logging

extension ControllerCommand {
    /// The Kopia populating reconciler `ferry controller` plugs into the runtime: built from the `--work-namespace`,
    /// `--populator-image` … flags (`PopulatorOptions.makePopulator`) and the `--kopia-repository-cache-size` …
    /// flags (`RepositoryCacheOptions`; their defaults when `cache` is nil). Kept for callers of the seam.
    static func makeKopiaReconciler(options: PopulatorOptions, cache: RepositoryCacheOptions? = nil, namespace: String,
                                    logger: Logger) throws -> any KopiaClaimReconciling {
        try options.makePopulator(namespace: namespace, cache: try cache ?? RepositoryCacheOptions.parse([]),
                                  logger: logger)
    }
}
