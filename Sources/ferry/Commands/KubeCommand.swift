import ArgumentParser
import Foundation
import Kube
import Logging

/// `ferry kube …`: operator checks of the Kubernetes side.
struct KubeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kube", abstract: "Check Ferry's access to the Kubernetes API.", subcommands: [KubeCheckCommand.self])
}

/// `ferry kube check`: server version, RBAC access for every resource Ferry needs, and the CRDs it relies on.
struct KubeCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Print the API server version, this identity's access to Ferry's resources, and required CRDs.",
        discussion: "Uses in-cluster configuration inside a pod, else --kubeconfig, $KUBECONFIG or ~/.kube/config.")

    @Option(help: "Path to a kubeconfig file.") var kubeconfig: String?
    @Option(help: "Context of the kubeconfig to use (default: current-context).") var context: String?
    @Option(help: "Namespace for namespaced access checks (default: the configuration's).") var namespace: String?

    /// (verb, group, resource, namespaced) that the controller needs (ARCHITECTURE.md §2.5).
    static let needs: [(String, String, String, Bool)] = [
        ("watch", "", "persistentvolumeclaims", false), ("update", "", "persistentvolumeclaims", false),
        ("create", "", "persistentvolumes", false), ("update", "", "persistentvolumes", false),
        ("watch", "storage.k8s.io", "storageclasses", false),
        ("get", "snapshot.storage.k8s.io", "volumesnapshots", false),
        ("get", "snapshot.storage.k8s.io", "volumesnapshotcontents", false),
        ("watch", "gateway.networking.k8s.io", "referencegrants", false),
        ("watch", "ferry.io", "kopiasnapshots", false), ("watch", "ferry.io", "datasourcelinks", false),
        ("create", "", "pods", true), ("delete", "", "pods", true), ("create", "", "secrets", true),
        ("create", "", "events", false), ("update", "coordination.k8s.io", "leases", true),
    ]
    static let crds = ["volumesnapshots.snapshot.storage.k8s.io", "volumesnapshotcontents.snapshot.storage.k8s.io",
                       "referencegrants.gateway.networking.k8s.io", "kopiasnapshots.ferry.io", "datasourcelinks.ferry.io"]

    func run() async throws {
        let logger = Logger(label: "ferry.kube")
        let client: KubeClient
        do {
            let config = try KubeConfig.load(kubeconfig: kubeconfig, context: context,
                                             environment: ProcessInfo.processInfo.environment)
            client = try KubeClient(config: config, logger: logger)
        } catch {
            print("configuration: \(error)")
            throw ExitCode(ExitCodes.usage)
        }
        let ns = namespace ?? client.config.namespace
        do {
            let version = try await client.serverVersion()
            print("server: \(client.config.server) version \(version["gitVersion"]?.string ?? "unknown")")
        } catch {
            print("server: \(client.config.server) unreachable: \(error)")
            throw ExitCode(ExitCodes.unavailable)
        }
        var missing = 0
        print("access (namespace \(ns) for namespaced checks):")
        for (verb, group, resource, namespaced) in Self.needs {
            let label = "  \(verb) \(group.isEmpty ? "core" : group)/\(resource)"
            do {
                let answer = try await client.canI(verb, group: group, resource: resource, namespace: namespaced ? ns : nil)
                if !answer.allowed { missing += 1 }
                print("\(label): \(answer.allowed ? "yes" : "NO")\(answer.reason.map { " (\($0))" } ?? "")")
            } catch {
                missing += 1
                print("\(label): unknown (\(error.message))")
            }
        }
        print("custom resource definitions:")
        for name in Self.crds {
            do {
                _ = try await client.get(CustomResourceDefinition.self, name: name)
                print("  \(name): installed")
            } catch where error.code == .notFound {
                missing += 1
                print("  \(name): MISSING")
            } catch {
                missing += 1
                print("  \(name): unknown (\(error.message))")
            }
        }
        if missing > 0 {
            print("\(missing) check(s) failed")
            throw ExitCode(ExitCodes.unavailable)
        }
        print("all checks passed")
    }
}
