import Kube

/// Kubernetes RBAC authorization (`plugin/pkg/auth/authorizer/rbac`: `VisitRulesFor`, `appliesTo`, `RuleAllows`),
/// evaluated over the stored ClusterRoles, Roles and their bindings. Pure: the caller passes the objects.
///
/// Reproduces: ClusterRoleBindings grant their ClusterRole's rules everywhere; RoleBindings grant their Role's or
/// ClusterRole's rules in the binding's namespace only; subjects `User`, `Group` and `ServiceAccount` (a
/// ServiceAccount subject without a namespace takes the RoleBinding's); rules match on `verbs`, `apiGroups`,
/// `resources` (`*`, `resource/subresource`, `*/subresource`) and `resourceNames` (a rule with names never matches a
/// request without a name, e.g. list or create); every authenticated user is in `system:authenticated`.
/// Knowingly differs: no ClusterRole aggregation (`aggregationRule`), no `nonResourceURLs` (only resource requests
/// are authorized here), no bootstrap roles (`cluster-admin`, `system:*`) — only what was applied.
struct RBACAuthorizer {
    struct Request: Sendable {
        var user: KubeAPIServer.User
        var verb: String
        var group: String
        var resource: String
        var subresource: String?
        var namespace: String?
        var name: String?
    }

    var clusterRoles: [JSONObject]
    var roles: [JSONObject]
    var clusterRoleBindings: [JSONObject]
    var roleBindings: [JSONObject]

    func allows(_ request: Request) -> Bool {
        for binding in clusterRoleBindings where Self.binds(binding, request.user, bindingNamespace: nil) {
            if rules(of: binding, bindingNamespace: nil).contains(where: { Self.rule($0, allows: request) }) { return true }
        }
        guard let namespace = request.namespace else { return false }
        for binding in roleBindings where Self.namespace(of: binding) == namespace
            && Self.binds(binding, request.user, bindingNamespace: namespace) {
            if rules(of: binding, bindingNamespace: namespace).contains(where: { Self.rule($0, allows: request) }) { return true }
        }
        return false
    }

    /// The rules of a binding's roleRef: a ClusterRole, or (RoleBinding only) a Role of the binding's namespace.
    private func rules(of binding: JSONObject, bindingNamespace: String?) -> [JSONObject] {
        guard let ref = binding["roleRef"]?.object, let name = ref["name"]?.string else { return [] }
        let role: JSONObject?
        switch ref["kind"]?.string {
        case "ClusterRole": role = clusterRoles.first { Self.name(of: $0) == name }
        case "Role" where bindingNamespace != nil:
            role = roles.first { Self.name(of: $0) == name && Self.namespace(of: $0) == bindingNamespace }
        default: role = nil
        }
        return role?["rules"]?.array?.compactMap(\.object) ?? []
    }

    private static func binds(_ binding: JSONObject, _ user: KubeAPIServer.User, bindingNamespace: String?) -> Bool {
        let groups = Set(user.groups + ["system:authenticated"])
        for subject in binding["subjects"]?.array?.compactMap(\.object) ?? [] {
            let name = subject["name"]?.string ?? ""
            switch subject["kind"]?.string {
            case "User": if name == user.name { return true }
            case "Group": if groups.contains(name) { return true }
            case "ServiceAccount":
                let namespace = subject["namespace"]?.string.flatMap { $0.isEmpty ? nil : $0 } ?? bindingNamespace ?? ""
                if !namespace.isEmpty, user.name == "system:serviceaccount:\(namespace):\(name)" { return true }
            default: continue
            }
        }
        return false
    }

    static func rule(_ rule: JSONObject, allows r: Request) -> Bool {
        func strings(_ key: String) -> [String] { rule[key]?.array?.compactMap(\.string) ?? [] }
        let verbs = strings("verbs"), groups = strings("apiGroups"), resources = strings("resources")
        guard verbs.contains("*") || verbs.contains(r.verb) else { return false }
        guard groups.contains("*") || groups.contains(r.group) else { return false }
        let combined = r.subresource.map { "\(r.resource)/\($0)" } ?? r.resource
        let resourceMatches = resources.contains { ruleResource in
            ruleResource == "*" || ruleResource == combined
                || (r.subresource.map { ruleResource == "*/\($0)" } ?? false)
        }
        guard resourceMatches else { return false }
        let names = strings("resourceNames")
        return names.isEmpty || (r.name.map { names.contains($0) } ?? false)
    }

    private static func name(of o: JSONObject) -> String? { o["metadata"]?.object?["name"]?.string }
    private static func namespace(of o: JSONObject) -> String? { o["metadata"]?.object?["namespace"]?.string }
}
