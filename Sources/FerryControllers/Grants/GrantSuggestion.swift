/// The ReferenceGrant that would allow a denied reference, as YAML a person can apply (kubernetes.md §7: "naming the
/// grant YAML needed"). Pure text; the name is a suggestion (`<claim-namespace>-may-use-<source-name>`, shortened).
public enum GrantSuggestion {
    /// A v1beta1 ReferenceGrant in the source namespace allowing claims of `request.claimNamespace` to use exactly
    /// this source (named, not a wildcard: the narrowest grant that works).
    public static func yaml(for request: GrantRequest) -> String {
        let group = request.source.group.isEmpty ? "\"\"" : request.source.group
        return """
            apiVersion: gateway.networking.k8s.io/v1beta1
            kind: ReferenceGrant
            metadata:
              name: \(suggestedName(for: request))
              namespace: \(request.source.namespace)
            spec:
              from:
              - group: ""
                kind: PersistentVolumeClaim
                namespace: \(request.claimNamespace)
              to:
              - group: \(group)
                kind: \(request.source.kind)
                name: \(request.source.name)
            """
    }

    /// One line for events: what is missing and where, then the YAML.
    public static func eventMessage(for denial: GrantDenial) -> String {
        let r = denial.request
        switch denial {
        case .noGrant:
            return "\(denial.message): no ReferenceGrant in namespace \(r.source.namespace) allows PersistentVolumeClaims "
                + "from namespace \(r.claimNamespace) to use \(r.source.kind) \(r.source.name). "
                + "The owner of \(r.source.namespace) can allow it with:\n" + yaml(for: r)
        case .featureDisabled:
            return "\(denial.message). Ferry was started with --feature-gates=CrossNamespaceVolumeDataSource=false; "
                + "use a ferry.io/DataSourceLink in namespace \(r.claimNamespace) instead (it needs no gate), or enable the gate."
        }
    }

    static func suggestedName(for request: GrantRequest) -> String {
        let raw = "\(request.claimNamespace)-may-use-\(request.source.name)".lowercased()
        let cleaned = String(raw.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "-" })
        let trimmed = String(cleaned.prefix(253)).trimmingDashes
        return trimmed.isEmpty ? "allow-claims" : trimmed
    }
}

extension String {
    fileprivate var trimmingDashes: String {
        var s = Substring(self)
        while let f = s.first, !(f.isLetter || f.isNumber) { s = s.dropFirst() }
        while let l = s.last, !(l.isLetter || l.isNumber) { s = s.dropLast() }
        return String(s)
    }
}
