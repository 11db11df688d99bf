import Kube
@testable import LocalCluster
import Testing

/// RBAC as kube-apiserver evaluates it, over stored Roles and bindings (pure; the HTTP path is exercised by
/// helm/tests/test_local_rbac.py with kubectl).
struct RBACAuthorizerTests {
    static let sa = KubeAPIServer.User(name: "system:serviceaccount:ferry-system:ferry",
                                       groups: ["system:serviceaccounts", "system:serviceaccounts:ferry-system"])

    static func meta(_ name: String, _ namespace: String? = nil) -> JSONValue {
        var m: JSONObject = ["name": .string(name)]
        if let namespace { m["namespace"] = .string(namespace) }
        return .object(m)
    }

    static func rule(_ groups: [String], _ resources: [String], _ verbs: [String], names: [String] = []) -> JSONValue {
        var r: JSONObject = ["apiGroups": .array(groups.map { .string($0) }), "resources": .array(resources.map { .string($0) }),
                             "verbs": .array(verbs.map { .string($0) })]
        if !names.isEmpty { r["resourceNames"] = .array(names.map { .string($0) }) }
        return .object(r)
    }

    static func binding(_ name: String, _ namespace: String?, roleKind: String, role: String, subject: JSONObject) -> JSONObject {
        ["metadata": meta(name, namespace), "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": .string(roleKind), "name": .string(role)],
         "subjects": [.object(subject)]]
    }

    static let authorizer = RBACAuthorizer(
        clusterRoles: [
            ["metadata": meta("ferry"), "rules": [rule(["ferry.io"], ["datasourcelinks"], ["get", "list", "watch"]),
                                                  rule(["ferry.io"], ["datasourcelinks/status"], ["update"]),
                                                  rule([""], ["configmaps"], ["get"], names: ["ferry-config"])]],
            ["metadata": meta("pod-reader"), "rules": [rule([""], ["pods"], ["get"]), rule(["*"], ["*/scale"], ["get"])]],
        ],
        roles: [["metadata": meta("leases", "ferry-system"), "rules": [rule(["coordination.k8s.io"], ["leases"], ["*"])]]],
        clusterRoleBindings: [binding("ferry", nil, roleKind: "ClusterRole", role: "ferry",
                                      subject: ["kind": "ServiceAccount", "name": "ferry", "namespace": "ferry-system"])],
        roleBindings: [
            binding("leases", "ferry-system", roleKind: "Role", role: "leases", subject: ["kind": "ServiceAccount", "name": "ferry"]),
            binding("pods", "staging", roleKind: "ClusterRole", role: "pod-reader", subject: ["kind": "Group", "name": "system:serviceaccounts"]),
        ])

    func allows(_ verb: String, _ group: String, _ resource: String, sub: String? = nil, ns: String? = nil,
                name: String? = nil, user: KubeAPIServer.User = sa) -> Bool {
        Self.authorizer.allows(.init(user: user, verb: verb, group: group, resource: resource, subresource: sub,
                                     namespace: ns, name: name))
    }

    @Test func aClusterRoleBindingGrantsItsVerbsEverywhereAndNothingElse() {
        #expect(allows("list", "ferry.io", "datasourcelinks"))
        #expect(allows("watch", "ferry.io", "datasourcelinks", ns: "staging"))
        #expect(!allows("update", "ferry.io", "datasourcelinks", ns: "staging", name: "l"))
        #expect(!allows("get", "", "secrets", ns: "staging", name: "s"))
        #expect(!allows("list", "ferry.io", "datasourcelinks", user: .init(name: "system:serviceaccount:other:ferry")))
    }

    @Test func aSubresourceNeedsItsOwnRule() {
        #expect(allows("update", "ferry.io", "datasourcelinks", sub: "status", ns: "staging", name: "l"))
        #expect(!allows("patch", "ferry.io", "datasourcelinks", sub: "status", ns: "staging", name: "l"))
        #expect(!allows("get", "ferry.io", "datasourcelinks", sub: "status", ns: "staging", name: "l", user: .init(name: "x")))
    }

    @Test func resourceNamesAllowOnlyThoseNamesAndNeverAListOrCreate() {
        #expect(allows("get", "", "configmaps", ns: "a", name: "ferry-config"))
        #expect(!allows("get", "", "configmaps", ns: "a", name: "other"))
        #expect(!allows("get", "", "configmaps", ns: "a"))
    }

    @Test func aRoleBindingGrantsOnlyInItsNamespaceAndDefaultsTheServiceAccountNamespace() {
        #expect(allows("update", "coordination.k8s.io", "leases", ns: "ferry-system", name: "ferry"))
        #expect(!allows("update", "coordination.k8s.io", "leases", ns: "default", name: "ferry"))
        #expect(!allows("update", "coordination.k8s.io", "leases", name: "ferry"))
    }

    @Test func groupSubjectsAndWildcardSubresourcesMatch() {
        #expect(allows("get", "", "pods", ns: "staging", name: "p"))
        #expect(!allows("get", "", "pods", ns: "production", name: "p"))
        #expect(allows("get", "apps", "deployments", sub: "scale", ns: "staging", name: "d"))
        #expect(!allows("get", "", "pods", ns: "staging", name: "p", user: .init(name: "alice")))
    }
}
