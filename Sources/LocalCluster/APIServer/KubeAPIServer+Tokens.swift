import Foundation
import Kube

extension KubeAPIServer {
    /// `POST /api/v1/namespaces/NS/serviceaccounts/NAME/token` (TokenRequest, what `kubectl create token` and the
    /// kubelet use): a fresh random bearer token that authenticates as `system:serviceaccount:NS:NAME` with the groups
    /// `system:serviceaccounts` and `system:serviceaccounts:NS` — so, with RBAC on, it may do what the
    /// ServiceAccount's bindings allow. Knowingly differs: the token is opaque (not a JWT), its expiry is reported but
    /// not enforced, audiences and bound objects are echoed, not checked; it lives as long as the server.
    func tokenRequest(_ r: Route, body: JSONObject) throws(APIFailure) -> JSONObject {
        let namespace = r.namespace ?? "default", name = r.name ?? ""
        _ = try get(r.type, namespace: namespace, name: name)  // 404 for a ServiceAccount that does not exist
        var rng = SystemRandomNumberGenerator()
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
        addToken(token, for: User(name: "system:serviceaccount:\(namespace):\(name)",
                                  groups: ["system:serviceaccounts", "system:serviceaccounts:\(namespace)"]))
        var spec = body["spec"]?.object ?? [:]
        let seconds = max(600, spec["expirationSeconds"]?.int ?? 3600)
        spec["expirationSeconds"] = .int(seconds)
        return [
            "kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
            "metadata": ["name": .string(name), "namespace": .string(namespace), "creationTimestamp": .string(Time.now())],
            "spec": .object(spec),
            "status": ["token": .string(token), "expirationTimestamp": .string(Time.after(seconds: seconds))],
        ]
    }
}
