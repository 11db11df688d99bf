import Foundation
import Synchronization

/// Supplies the bearer token for each request; a token file is re-read whenever its identity (inode, size,
/// modification time) changes, so rotated service-account tokens are picked up on the next request.
final class TokenSource: Sendable {
    private struct Cached { var token: String?; var stamp: [Int] }
    private let credentials: KubeConfig.Credentials
    private let cache = Mutex(Cached(token: nil, stamp: []))

    init(_ credentials: KubeConfig.Credentials) { self.credentials = credentials }

    /// The current token, or nil for no bearer auth.
    func token(forceReload: Bool = false) throws(KubeError) -> String? {
        switch credentials {
        case .none: return nil
        case .bearerToken(let t): return t
        case .tokenFile(let path):
            let stamp = Self.stamp(path)
            if !forceReload, let cached = cache.withLock({ $0.stamp == stamp ? $0.token : nil }) { return cached }
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw KubeError(.configuration, "cannot read token file \(path)")
            }
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            cache.withLock { $0 = Cached(token: token, stamp: stamp) }
            return token
        }
    }

    private static func stamp(_ path: String) -> [Int] {
        var st = stat()
        guard stat(path, &st) == 0 else { return [] }
        return [Int(st.st_ino), Int(st.st_size), Int(st.st_mtim.tv_sec), Int(st.st_mtim.tv_nsec)]
    }
}
