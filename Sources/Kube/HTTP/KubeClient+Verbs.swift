import CurlHTTP

extension KubeClient {
    /// Reads one object. Namespace defaults to the config's for namespaced kinds.
    /// - Throws: `.notFound`, `.forbidden`, …
    public func get<T: KubeResource>(_ type: T.Type, name: String, namespace: String? = nil) async throws(KubeError) -> T {
        let ns = namespaceFor(type, namespace)
        let r = try await send(.get, T.resourceType.path(namespace: ns, name: name),
                               target: Target(resource: T.resourceType.plural, namespace: ns, name: name))
        return try decodeObject(r.body)
    }

    /// Lists one page. `namespace` nil on a namespaced kind lists across all namespaces.
    public func list<T: KubeResource>(_ type: T.Type, namespace: String?, options: ListOptions = ListOptions())
        async throws(KubeError) -> ObjectList<T> {
        let ns = T.resourceType.namespaced ? namespace : nil
        let r = try await send(.get, T.resourceType.path(namespace: ns), query: [
            ("labelSelector", options.labelSelector), ("fieldSelector", options.fieldSelector),
            ("limit", options.limit.map(String.init)), ("continue", options.continueToken),
            ("resourceVersion", options.resourceVersion),
        ], target: Target(resource: T.resourceType.plural, namespace: ns))
        let root: JSONObject
        do { root = try JSONCoding.parse(r.body).object ?? [:] } catch { throw KubeError(.decoding, "\(error)") }
        let meta = root["metadata"]?.object ?? [:]
        let items = (root["items"]?.array ?? []).compactMap { $0.object }.map { o -> T in
            var item = T(object: o)
            // Lists omit apiVersion/kind on items; restore them so items are complete objects.
            if item.kind == nil { item.kind = T.resourceType.kind }
            if item.apiVersion == nil { item.apiVersion = T.resourceType.apiVersion }
            return item
        }
        let cont = meta["continue"]?.string
        return ObjectList(items: items, resourceVersion: meta["resourceVersion"]?.string ?? "",
                          continueToken: cont?.isEmpty == false ? cont : nil,
                          remainingItemCount: meta["remainingItemCount"]?.int)
    }

    /// Lists every page (following `continue`) and returns all items with the first page's resourceVersion.
    public func listAll<T: KubeResource>(_ type: T.Type, namespace: String?, options: ListOptions = ListOptions())
        async throws(KubeError) -> ObjectList<T> {
        var opts = options
        var page = try await list(type, namespace: namespace, options: opts)
        var all = page.items
        let rv = page.resourceVersion
        while let token = page.continueToken {
            opts.continueToken = token
            page = try await list(type, namespace: namespace, options: opts)
            all += page.items
        }
        return ObjectList(items: all, resourceVersion: rv, continueToken: nil, remainingItemCount: nil)
    }

    private func writeQuery(_ o: WriteOptions) -> [(String, String?)] {
        [("dryRun", o.dryRun ? "All" : nil), ("fieldManager", o.fieldManager)]
    }

    /// Creates an object. `metadata.generateName` without a name lets the server pick one.
    /// - Throws: `.alreadyExists`, `.invalid` (with causes), …
    public func create<T: KubeResource>(_ object: T, options: WriteOptions = WriteOptions()) async throws(KubeError) -> T {
        let ns = namespaceFor(T.self, object.metadata.namespace)
        let r = try await send(.post, T.resourceType.path(namespace: ns), query: writeQuery(options), body: object.json,
                               target: Target(resource: T.resourceType.plural, namespace: ns, name: object.metadata.name))
        return try decodeObject(r.body)
    }

    /// Replaces an object. Optimistic concurrency: the object's `metadata.resourceVersion` must still be current,
    /// else `.conflict` (re-read and retry). On kinds with a status subresource, status changes are ignored here.
    public func update<T: KubeResource>(_ object: T, options: WriteOptions = WriteOptions()) async throws(KubeError) -> T {
        try await put(object, subresource: nil, options: options)
    }

    /// Replaces the `status` subresource (spec and metadata changes are ignored by the server).
    public func updateStatus<T: KubeResource>(_ object: T, options: WriteOptions = WriteOptions()) async throws(KubeError) -> T {
        try await put(object, subresource: "status", options: options)
    }

    private func put<T: KubeResource>(_ object: T, subresource: String?, options: WriteOptions) async throws(KubeError) -> T {
        let ns = namespaceFor(T.self, object.metadata.namespace)
        let name = object.name
        let r = try await send(.put, T.resourceType.path(namespace: ns, name: name, subresource: subresource),
                               query: writeQuery(options), body: object.json,
                               target: Target(resource: T.resourceType.plural, namespace: ns, name: name))
        return try decodeObject(r.body)
    }

    /// Applies an RFC 7386 JSON merge patch (`null` deletes a key). Including `metadata.resourceVersion` in the patch
    /// makes it conditional.
    public func patch<T: KubeResource>(_ type: T.Type, name: String, namespace: String? = nil, mergePatch: JSONValue,
                                       subresource: String? = nil, options: WriteOptions = WriteOptions())
        async throws(KubeError) -> T {
        let ns = namespaceFor(type, namespace)
        let r = try await send(.patch, T.resourceType.path(namespace: ns, name: name, subresource: subresource),
                               query: writeQuery(options), body: mergePatch, contentType: "application/merge-patch+json",
                               target: Target(resource: T.resourceType.plural, namespace: ns, name: name))
        return try decodeObject(r.body)
    }

    /// Server-side apply: sends the fields this manager wants to own; creates the object if missing.
    /// - Throws: `.conflict` when another manager owns a field with a different value and `force` is false.
    public func apply<T: KubeResource>(_ object: T, fieldManager: String, force: Bool = false, subresource: String? = nil,
                                       dryRun: Bool = false) async throws(KubeError) -> T {
        let ns = namespaceFor(T.self, object.metadata.namespace)
        let name = object.name
        let r = try await send(.patch, T.resourceType.path(namespace: ns, name: name, subresource: subresource),
                               query: [("fieldManager", fieldManager), ("force", force ? "true" : nil),
                                       ("dryRun", dryRun ? "All" : nil)],
                               body: object.json, contentType: "application/apply-patch+yaml",
                               target: Target(resource: T.resourceType.plural, namespace: ns, name: name))
        return try decodeObject(r.body)
    }

    /// Deletes an object, with optional UID/resourceVersion preconditions and propagation policy.
    /// - Returns: `.pending` when finalizers hold the object, `.deleted` otherwise.
    @discardableResult
    public func delete<T: KubeResource>(_ type: T.Type, name: String, namespace: String? = nil,
                                        options: DeleteOptions = DeleteOptions()) async throws(KubeError) -> DeleteResult<T> {
        let ns = namespaceFor(type, namespace)
        let r = try await send(.delete, T.resourceType.path(namespace: ns, name: name),
                               query: [("dryRun", options.dryRun ? "All" : nil)], body: options.body,
                               target: Target(resource: T.resourceType.plural, namespace: ns, name: name))
        let parsed = try? JSONCoding.parse(r.body).object
        guard let o = parsed, o["kind"]?.string == T.resourceType.kind else { return .deleted(nil) }
        let object = T(object: o)
        if r.status == 202 || (object.metadata.deletionTimestamp != nil && !object.metadata.finalizers.isEmpty) {
            return .pending(object)
        }
        return .deleted(object)
    }
}
