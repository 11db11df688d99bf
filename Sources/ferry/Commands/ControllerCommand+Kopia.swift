import FerryControllers
import Kube
import Logging

extension ControllerCommand {
    /// The Kopia populating reconciler `ferry controller` plugs into the runtime: built from the `--work-namespace`,
    /// `--populator-image` … flags (`PopulatorOptions.makePopulator`). Kept for callers of the seam.
    static func makeKopiaReconciler(options: PopulatorOptions, namespace: String, logger: Logger) throws -> any KopiaClaimReconciling {
        try options.makePopulator(namespace: namespace, logger: logger)
    }
}
