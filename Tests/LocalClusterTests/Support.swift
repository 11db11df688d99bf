import Foundation

/// A directory under the system temp directory, removed when the value is released.
final class TemporaryDirectory: Sendable {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-lc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A one-shot flag tasks can wait on (with a timeout).
actor Flag {
    private var isSet = false
    func set() { isSet = true }
    func wait(timeout: Duration = .seconds(10)) async -> Bool {
        let end = ContinuousClock.now + timeout
        while !isSet, ContinuousClock.now < end { try? await Task.sleep(for: .milliseconds(10)) }
        return isSet
    }
}
