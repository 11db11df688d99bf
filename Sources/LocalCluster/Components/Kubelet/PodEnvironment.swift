import Foundation
import Kube

/// Why a container cannot start yet: the waiting reason and message a kubelet reports.
struct ContainerStartError: Error, Sendable {
    var reason: String
    var message: String
}

/// A container's environment and command as the kubelet builds them (`pkg/kubelet/kubelet_pods.go`
/// `makeEnvironmentVariables`, `expansion.Expand`): `envFrom` first (config maps and secrets, with `prefix`;
/// keys that are not valid variable names are skipped), then `env` in order (`value` with `$(VAR)` expansion,
/// `valueFrom` secretKeyRef, configMapKeyRef and fieldRef), over a base of PATH, HOSTNAME and HOME; `$(VAR)` in
/// `command` and `args` expands the same way, `$$` escapes. A missing non-optional source is
/// `CreateContainerConfigError`.
struct PodEnvironment: Sendable {
    let client: KubeClient
    let pod: Pod
    let nodeName: String

    static let base: [String: String] = [
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root",
    ]

    func environment(for container: JSONMap) async throws(ContainerStartError) -> [String: String] {
        var env = Self.base
        env["HOSTNAME"] = pod.name
        let namespace = pod.metadata.namespace ?? "default"
        let envFrom: [JSONMap] = container["envFrom"] ?? []
        for source in envFrom {
            let prefix: String = source["prefix"] ?? ""
            if let ref = source.object["configMapRef"]?.object {
                let data = try await configMap(ref["name"]?.string ?? "", namespace, optional: ref["optional"]?.bool ?? false)
                for (k, v) in data ?? [:] where Self.validName(prefix + k) { env[prefix + k] = v }
            }
            if let ref = source.object["secretRef"]?.object {
                let data = try await secret(ref["name"]?.string ?? "", namespace, optional: ref["optional"]?.bool ?? false)
                for (k, v) in data ?? [:] where Self.validName(prefix + k) { env[prefix + k] = v }
            }
        }
        let vars: [JSONMap] = container["env"] ?? []
        for v in vars {
            guard let name: String = v["name"] else { continue }
            if let value: String = v["value"] {
                env[name] = Self.expand(value, env)
            } else if let from = v.object["valueFrom"]?.object {
                if let value = try await valueFrom(from, namespace) { env[name] = value }
            } else {
                env[name] = ""
            }
        }
        return env
    }

    private func valueFrom(_ from: JSONObject, _ namespace: String) async throws(ContainerStartError) -> String? {
        if let ref = from["secretKeyRef"]?.object {
            let name = ref["name"]?.string ?? "", key = ref["key"]?.string ?? ""
            let optional = ref["optional"]?.bool ?? false
            guard let data = try await secret(name, namespace, optional: optional) else { return nil }
            guard let value = data[key] else {
                if optional { return nil }
                throw ContainerStartError(reason: "CreateContainerConfigError",
                                          message: "couldn't find key \(key) in Secret \(namespace)/\(name)")
            }
            return value
        }
        if let ref = from["configMapKeyRef"]?.object {
            let name = ref["name"]?.string ?? "", key = ref["key"]?.string ?? ""
            let optional = ref["optional"]?.bool ?? false
            guard let data = try await configMap(name, namespace, optional: optional) else { return nil }
            guard let value = data[key] else {
                if optional { return nil }
                throw ContainerStartError(reason: "CreateContainerConfigError",
                                          message: "couldn't find key \(key) in ConfigMap \(namespace)/\(name)")
            }
            return value
        }
        if let ref = from["fieldRef"]?.object, let path = ref["fieldPath"]?.string {
            return field(path)
        }
        return nil
    }

    /// Downward-API fields a kubelet resolves for `fieldRef`.
    func field(_ path: String) -> String? {
        switch path {
        case "metadata.name": return pod.name
        case "metadata.namespace": return pod.metadata.namespace
        case "metadata.uid": return pod.metadata.uid
        case "spec.nodeName": return nodeName
        case "spec.serviceAccountName": return pod.spec.serviceAccountName ?? "default"
        case "status.podIP", "status.hostIP": return "127.0.0.1"
        default:
            for (prefix, map) in [("metadata.labels", pod.metadata.labels), ("metadata.annotations", pod.metadata.annotations)]
            where path.hasPrefix(prefix + "['") && path.hasSuffix("']") {
                return map[String(path.dropFirst(prefix.count + 2).dropLast(2))]
            }
            return nil
        }
    }

    private func configMap(_ name: String, _ namespace: String, optional: Bool) async throws(ContainerStartError) -> [String: String]? {
        do {
            let cm = try await client.get(ConfigMap.self, name: name, namespace: namespace)
            var data = cm.data
            for (k, v) in cm.binaryData { data[k] = Data(base64Encoded: v).map { String(decoding: $0, as: UTF8.self) } }
            return data
        } catch {
            if optional, error.code == .notFound { return nil }
            throw ContainerStartError(reason: "CreateContainerConfigError", message: "configmap \"\(name)\" not found")
        }
    }

    private func secret(_ name: String, _ namespace: String, optional: Bool) async throws(ContainerStartError) -> [String: String]? {
        do {
            let s = try await client.get(Secret.self, name: name, namespace: namespace)
            var data = s.decodedData.mapValues { String(decoding: $0, as: UTF8.self) }
            for (k, v) in s.stringData { data[k] = v }
            return data
        } catch {
            if optional, error.code == .notFound { return nil }
            throw ContainerStartError(reason: "CreateContainerConfigError", message: "secret \"\(name)\" not found")
        }
    }

    /// A C identifier-like name, as `IsEnvVarName` accepts (letters, digits, `_`, `-`, `.`; not starting with a digit).
    static func validName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-.".unicodeScalars.contains($0)) }
    }

    /// `$(VAR)` expansion: defined variables are replaced, undefined references kept as written, `$$` is `$`.
    static func expand(_ s: String, _ env: [String: String]) -> String {
        var out = ""
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            let next = s.index(after: i)
            if c == "$", next < s.endIndex {
                if s[next] == "$" { out.append("$"); i = s.index(after: next); continue }
                if s[next] == "(", let close = s[next...].firstIndex(of: ")") {
                    let name = String(s[s.index(after: next)..<close])
                    if let value = env[name] { out += value } else { out += s[i...close] }
                    i = s.index(after: close)
                    continue
                }
            }
            out.append(c)
            i = next
        }
        return out
    }
}
