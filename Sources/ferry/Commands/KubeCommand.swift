import ArgumentParser
import FerryControllers
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
        for need in RequiredAccess.controller {
            let label = "  \(need.verb) \(need.group.isEmpty ? "core" : need.group)/\(need.resource)"
                + (need.subresource.map { "/\($0)" } ?? "")
            do {
                let answer = try await client.canI(need.verb, group: need.group, resource: need.resource,
                                                   subresource: need.subresource, namespace: need.namespaced ? ns : nil)
                if !answer.allowed { missing += 1 }
                print("\(label): \(answer.allowed ? "yes" : "NO")\(answer.reason.map { " (\($0))" } ?? "")")
            } catch {
                missing += 1
                print("\(label): unknown (\(error.message))")
            }
        }
        print("custom resource definitions:")
        for (name, _) in RequiredAccess.crds {
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
        // Whether the API server keeps a namespaced dataSourceRef (dry run: nothing is stored).
        print("cross-namespace data sources: \(await GateProbe.run(client: client, namespace: ns).line)")
        if missing > 0 {
            print("\(missing) check(s) failed")
            throw ExitCode(ExitCodes.unavailable)
        }
        print("all checks passed")
    }
}
