public import CurlHTTP
import Foundation

/// How to reach and authenticate to an API server. Build one with ``inCluster(environment:serviceAccountDirectory:)``,
/// ``fromKubeconfig(path:context:environment:)`` or directly (tests).
public struct KubeConfig: Sendable {
    public enum Credentials: Sendable {
        case none
        /// A fixed bearer token.
        case bearerToken(String)
        /// A bearer token read from a file and re-read whenever the file changes (projected service-account tokens
        /// rotate).
        case tokenFile(String)
    }

    /// `https://host:port`, no trailing slash.
    public var server: String
    public var tls: TLSOptions
    public var credentials: Credentials
    /// The default namespace (kubeconfig context namespace, or the service account's namespace).
    public var namespace: String
    public var userAgent: String
    /// Timeout of non-watch requests.
    public var requestTimeout: Duration

    public init(server: String, tls: TLSOptions = TLSOptions(), credentials: Credentials = .none,
                namespace: String = "default", userAgent: String = "ferry", requestTimeout: Duration = .seconds(30)) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.tls = tls
        self.credentials = credentials
        self.namespace = namespace
        self.userAgent = userAgent
        self.requestTimeout = requestTimeout
    }

    /// The in-cluster configuration: `KUBERNETES_SERVICE_HOST`/`_PORT`, the service-account token (re-read on
    /// rotation), CA and namespace from `/var/run/secrets/kubernetes.io/serviceaccount`.
    /// - Parameters:
    ///   - environment: the variables to read (the `ferry` executable passes its process environment; libraries
    ///     never read the process environment themselves).
    /// - Throws: `.configuration` when not running in a cluster.
    public static func inCluster(environment: [String: String],
                                 serviceAccountDirectory: String = "/var/run/secrets/kubernetes.io/serviceaccount")
        throws(KubeError) -> KubeConfig {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
              let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty else {
            throw KubeError(.configuration, "not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set")
        }
        let tokenPath = serviceAccountDirectory + "/token"
        guard FileManager.default.isReadableFile(atPath: tokenPath) else {
            throw KubeError(.configuration, "service-account token \(tokenPath) is not readable")
        }
        let hostPart = host.contains(":") ? "[\(host)]" : host  // IPv6 literal
        let namespace = (try? String(contentsOfFile: serviceAccountDirectory + "/namespace", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "default"
        let ca = serviceAccountDirectory + "/ca.crt"
        return KubeConfig(server: "https://\(hostPart):\(port)",
                          tls: TLSOptions(certificateAuthority: FileManager.default.fileExists(atPath: ca) ? .file(ca) : nil),
                          credentials: .tokenFile(tokenPath), namespace: namespace.isEmpty ? "default" : namespace)
    }

    /// Local use: `--kubeconfig` if given, else `$KUBECONFIG` (first existing entry), else `$HOME/.kube/config`,
    /// all taken from `environment` (never from the process).
    /// - Throws: `.configuration` when no kubeconfig is found or it is unusable.
    public static func fromKubeconfig(path: String? = nil, context: String? = nil,
                                      environment: [String: String])
        throws(KubeError) -> KubeConfig {
        let candidates: [String]
        if let path { candidates = [path] }
        else if let env = environment["KUBECONFIG"], !env.isEmpty { candidates = env.split(separator: ":").map(String.init) }
        else if let home = environment["HOME"], !home.isEmpty { candidates = [home + "/.kube/config"] }
        else { throw KubeError(.configuration, "no kubeconfig given and neither KUBECONFIG nor HOME is set") }
        guard let file = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw KubeError(.configuration, "no kubeconfig found (tried \(candidates.joined(separator: ", ")))")
        }
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw KubeError(.configuration, "cannot read kubeconfig \(file): \(error)")
        }
        return try KubeconfigFile(yaml: text, path: file).resolve(context: context)
    }

    /// Loads in-cluster configuration when running in a pod, else the kubeconfig (the usual order for a sidecar
    /// started with an optional `--kubeconfig`).
    public static func load(kubeconfig: String? = nil, context: String? = nil,
                            environment: [String: String]) throws(KubeError) -> KubeConfig {
        if kubeconfig == nil, context == nil, environment["KUBERNETES_SERVICE_HOST"] != nil {
            return try inCluster(environment: environment)
        }
        return try fromKubeconfig(path: kubeconfig, context: context, environment: environment)
    }
}
