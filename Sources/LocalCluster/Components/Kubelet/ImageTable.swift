/// Container image → local executable, the kubelet's stand-in for a container runtime's image store
/// (`ferry-localcluster up --image NAME=PATH`). A reference matches an entry by its repository, any tag or digest:
/// `busybox`, `busybox:1.36`, `docker.io/library/busybox@sha256:…` all match `busybox`; a key may also be a full
/// repository (`ghcr.io/ferry/ferry`), which is tried first.
public struct ImageTable: Sendable {
    /// Images every local cluster knows: shell images map to `/bin/sh`, so test pods can run `sh -c …`.
    public static let defaults: [String: String] = ["busybox": "/bin/sh", "alpine": "/bin/sh"]

    public let entries: [String: String]

    public init(_ entries: [String: String], includingDefaults: Bool = true) {
        self.entries = includingDefaults ? Self.defaults.merging(entries) { _, given in given } : entries
    }

    /// The repository of an image reference: without a digest or tag.
    public static func repository(_ image: String) -> String {
        var s = Substring(image)
        if let at = s.firstIndex(of: "@") { s = s[..<at] }
        if let colon = s.lastIndex(of: ":"), !s[colon...].contains("/") { s = s[..<colon] }
        return String(s)
    }

    /// The executable for an image, or nil when the table does not know it.
    public func executable(for image: String) -> String? {
        let repo = Self.repository(image)
        if let path = entries[repo] { return path }
        for prefix in ["docker.io/library/", "docker.io/", "index.docker.io/library/"] where repo.hasPrefix(prefix) {
            if let path = entries[String(repo.dropFirst(prefix.count))] { return path }
        }
        if let last = repo.split(separator: "/").last, let path = entries[String(last)] { return path }
        return nil
    }
}
