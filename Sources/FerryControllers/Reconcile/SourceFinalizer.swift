import Logging
public import Kube

/// Adds and removes Ferry's protection finalizer on a source VolumeSnapshot or PersistentVolumeClaim with
/// read-modify-write (conflicts retried with a fresh read), so other finalizers are never lost.
public enum SourceFinalizer {
    public static func add(to source: SourceReference, kube: any KubeVerbs) async throws(KubeError) {
        try await change(source, kube: kube) { finalizers in
            guard !finalizers.contains(SourceProtection.finalizer) else { return nil }
            return finalizers + [SourceProtection.finalizer]
        }
    }

    /// - Returns: whether the finalizer was there.
    @discardableResult
    public static func remove(from source: SourceReference, kube: any KubeVerbs) async throws(KubeError) -> Bool {
        var removed = false
        try await change(source, kube: kube) { finalizers in
            guard finalizers.contains(SourceProtection.finalizer) else { return nil }
            removed = true
            return finalizers.filter { $0 != SourceProtection.finalizer }
        }
        return removed
    }

    static func change(_ source: SourceReference, kube: any KubeVerbs,
                       _ edit: ([String]) -> [String]?) async throws(KubeError) {
        for attempt in 0..<5 {
            do {
                if source.isVolumeSnapshot {
                    var o = try await kube.get(VolumeSnapshot.self, name: source.name, namespace: source.namespace)
                    guard let f = edit(o.metadata.finalizers) else { return }
                    o.metadata.finalizers = f
                    _ = try await kube.update(o)
                } else if source.isPersistentVolumeClaim {
                    var o = try await kube.get(PersistentVolumeClaim.self, name: source.name, namespace: source.namespace)
                    guard let f = edit(o.metadata.finalizers) else { return }
                    o.metadata.finalizers = f
                    _ = try await kube.update(o)
                }
                return
            } catch where error.code == .conflict && attempt < 4 {
                continue
            } catch where error.code == .notFound {
                return
            }
        }
    }
}
