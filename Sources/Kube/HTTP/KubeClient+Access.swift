extension KubeClient {
    /// Asks the API server whether the current identity may perform `verb` on a resource (SelfSubjectAccessReview).
    /// `subresource` (e.g. `status`) is authorized separately from its resource by RBAC.
    /// - Returns: whether it is allowed, and the authorizer's reason when it says one.
    public func canI(_ verb: String, group: String, resource: String, subresource: String? = nil, namespace: String? = nil)
        async throws(KubeError) -> (allowed: Bool, reason: String?) {
        var review = SelfSubjectAccessReview(name: "")
        review.metadata = ObjectMeta()
        var attrs: JSONObject = ["verb": .string(verb), "group": .string(group), "resource": .string(resource)]
        if let subresource { attrs["subresource"] = .string(subresource) }
        if let namespace { attrs["namespace"] = .string(namespace) }
        review.spec = JSONMap(object: ["resourceAttributes": .object(attrs)])
        let answer = try await create(review)
        return (answer.status.object["allowed"]?.bool ?? false, answer.status.object["reason"]?.string)
    }
}
