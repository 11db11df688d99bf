import CurlHTTP
import Foundation
import Kube

/// The kubelet's service-account token volume (`kube-api-access-*`, `pkg/kubelet/token`): for a pod whose
/// `automountServiceAccountToken` is not false and whose ServiceAccount exists, a token from the API server's
/// TokenRequest (`serviceaccounts/NAME/token`), written with the cluster CA and the namespace into the pod's
/// directory and mounted read-only at `/var/run/secrets/kubernetes.io/serviceaccount`, plus `KUBERNETES_SERVICE_HOST`
/// and `KUBERNETES_SERVICE_PORT` — what in-cluster clients read.
/// Knowingly differs: a pod whose ServiceAccount does not exist runs without a token (the API server has no
/// ServiceAccount admission and no controller creates `default`); the token is not refreshed (it does not expire).
struct ServiceAccountToken: Sendable {
    static let mountPath = "/var/run/secrets/kubernetes.io/serviceaccount"

    let client: KubeClient
    let pod: Pod
    let podDirectory: URL

    /// The directory to mount and the environment to add, or nil when the pod gets no token.
    func prepare() async throws(ContainerStartError) -> (directory: String, environment: [String: String])? {
        if pod.spec.object["automountServiceAccountToken"]?.bool == false { return nil }
        let namespace = pod.metadata.namespace ?? "default"
        let account = pod.spec.serviceAccountName ?? "default"
        let request: JSONValue = ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                                  "spec": ["expirationSeconds": 3607,
                                           "boundObjectRef": ["apiVersion": "v1", "kind": "Pod", "name": .string(pod.name),
                                                              "uid": .string(pod.metadata.uid ?? "")]]]
        let answer: JSONValue
        do {
            answer = try await client.raw(.post, path: "/api/v1/namespaces/\(namespace)/serviceaccounts/\(account)/token",
                                          body: request)
        } catch where error.code == .notFound {
            return nil
        } catch {
            throw ContainerStartError(reason: "CreateContainerConfigError",
                                      message: "cannot request a token for service account \(namespace)/\(account): \(error.message)")
        }
        guard let token = answer.value(at: "status.token")?.string else {
            throw ContainerStartError(reason: "CreateContainerConfigError",
                                      message: "TokenRequest for \(namespace)/\(account) returned no token")
        }
        let directory = podDirectory.appendingPathComponent("volumes/kubernetes.io~projected/kube-api-access")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(token.utf8).write(to: directory.appendingPathComponent("token"))
            try Data(namespace.utf8).write(to: directory.appendingPathComponent("namespace"))
            // The CA the kubelet's own client trusts: the API server's.
            switch client.config.tls.certificateAuthority {
            case .file(let path): try Data(contentsOf: URL(fileURLWithPath: path)).write(to: directory.appendingPathComponent("ca.crt"))
            case .pem(let bytes): try Data(bytes).write(to: directory.appendingPathComponent("ca.crt"))
            case nil: break
            }
        } catch {
            throw ContainerStartError(reason: "CreateContainerConfigError", message: "cannot write the service-account token: \(error)")
        }
        guard let url = URL(string: client.config.server), let host = url.host, let port = url.port else {
            throw ContainerStartError(reason: "CreateContainerConfigError", message: "API server address \(client.config.server) has no host and port")
        }
        return (directory.path, ["KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": String(port)])
    }
}
