import CurlHTTP
import Foundation
import Yams

/// A parsed kubeconfig file (clusters, users, contexts). Only the fields a client needs are read.
struct KubeconfigFile {
    let root: [String: Any]
    let directory: String

    init(yaml: String, path: String) throws(KubeError) {
        let loaded: Any?
        do { loaded = try Yams.load(yaml: yaml) } catch {
            throw KubeError(.configuration, "kubeconfig \(path) is not valid YAML: \(error)")
        }
        guard let root = loaded as? [String: Any] else { throw KubeError(.configuration, "kubeconfig \(path) is not a mapping") }
        self.root = root
        self.directory = (path as NSString).deletingLastPathComponent
    }

    private func named(_ list: String, _ name: String, _ field: String) throws(KubeError) -> [String: Any] {
        let entries = root[list] as? [[String: Any]] ?? []
        guard let entry = entries.first(where: { $0["name"] as? String == name }) else {
            throw KubeError(.configuration, "kubeconfig has no \(field) named \"\(name)\"")
        }
        return entry[field] as? [String: Any] ?? [:]
    }

    /// Relative paths in a kubeconfig are relative to the file's directory.
    private func path(_ p: String) -> String { p.hasPrefix("/") ? p : directory + "/" + p }

    private func inline(_ value: Any?, _ what: String) throws(KubeError) -> [UInt8]? {
        guard let s = value as? String else { return nil }
        guard let d = Data(base64Encoded: s, options: .ignoreUnknownCharacters) else {
            throw KubeError(.configuration, "kubeconfig \(what) is not valid base64")
        }
        return [UInt8](d)
    }

    func resolve(context requested: String?) throws(KubeError) -> KubeConfig {
        guard let contextName = requested ?? root["current-context"] as? String, !contextName.isEmpty else {
            throw KubeError(.configuration, "kubeconfig has no current-context and none was given")
        }
        let context = try named("contexts", contextName, "context")
        guard let clusterName = context["cluster"] as? String else {
            throw KubeError(.configuration, "context \"\(contextName)\" names no cluster")
        }
        let cluster = try named("clusters", clusterName, "cluster")
        let user = try (context["user"] as? String).map { name throws(KubeError) in try named("users", name, "user") } ?? [:]
        guard let server = cluster["server"] as? String else {
            throw KubeError(.configuration, "cluster \"\(clusterName)\" has no server")
        }
        var tls = TLSOptions()
        tls.insecureSkipVerify = cluster["insecure-skip-tls-verify"] as? Bool ?? false
        if let ca = try inline(cluster["certificate-authority-data"], "certificate-authority-data") { tls.certificateAuthority = .pem(ca) }
        else if let file = cluster["certificate-authority"] as? String { tls.certificateAuthority = .file(path(file)) }
        if let cert = try inline(user["client-certificate-data"], "client-certificate-data") { tls.clientCertificate = .pem(cert) }
        else if let file = user["client-certificate"] as? String { tls.clientCertificate = .file(path(file)) }
        if let key = try inline(user["client-key-data"], "client-key-data") { tls.clientKey = .pem(key) }
        else if let file = user["client-key"] as? String { tls.clientKey = .file(path(file)) }
        if (tls.clientCertificate == nil) != (tls.clientKey == nil) {
            throw KubeError(.configuration, "user of context \"\(contextName)\" needs both a client certificate and a key")
        }
        let credentials: KubeConfig.Credentials
        if let token = user["token"] as? String, !token.isEmpty { credentials = .bearerToken(token) }
        else if let file = user["tokenFile"] as? String ?? user["token-file"] as? String { credentials = .tokenFile(path(file)) }
        else if user["exec"] != nil || user["auth-provider"] != nil {
            throw KubeError(.configuration, "user of context \"\(contextName)\" uses an exec or auth-provider plugin, which Ferry does not support yet")
        }
        else { credentials = .none }
        return KubeConfig(server: server, tls: tls, credentials: credentials,
                          namespace: context["namespace"] as? String ?? "default")
    }
}
