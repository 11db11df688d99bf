import FerryControllers
import Kube
import Logging

extension ControllerCommand {
    /// The Kopia populating reconciler `ferry controller` plugs into the runtime (issue 13 fills this in; nil = claims
    /// with Kopia sources wait with reason `NoKopiaPopulator`). Seam: /work/notes/controller-seams.md.
    static func makeKopiaReconciler(client: KubeClient, namespace: String, logger: Logger) -> (any KopiaClaimReconciling)? {
        nil
    }
}
