public import Foundation

/// Locates the read-only Kopia fixtures in `../shared/fixtures/kopia` (STYLE.md rule 14).
///
/// `FERRY_FIXTURES` overrides the location (a directory holding `fs-default/` etc.); otherwise it is derived
/// from this file's path: `<repo>/../shared/fixtures/kopia`. Tests never write into a fixture: damage tests
/// call `temporaryCopy(of:)`.
public enum Fixtures {
    public static let password = "fixture-password"

    /// Every fixture repository name, sorted.
    public static var all: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: root.appendingPathComponent($0).appendingPathComponent("kopia.repository.f").path) }.sorted()
    }

    public static var root: URL {
        if let override = ProcessInfo.processInfo.environment["FERRY_FIXTURES"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        // Tests/Support/KopiaTestSupport/Fixtures.swift → repository root → ../shared/fixtures/kopia
        let repoRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repoRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures/kopia").standardizedFileURL
    }

    /// The directory of one fixture repository, e.g. `kopia("fs-default")`.
    public static func kopia(_ name: String) -> URL {
        root.appendingPathComponent(name)
    }

    /// The repository root of this package (where Package.swift is).
    public static var packageRoot: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Copies a fixture to a fresh temporary directory that the caller may damage; returns its path.
    public static func temporaryCopy(of name: String) throws -> URL {
        let dest = FileManager.default.temporaryDirectory
            .appendingPathComponent("ferry-fixture-\(name)-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: kopia(name), to: dest)
        // Fixture files are read-only; make the copy writable so tests can damage it.
        if let walker = FileManager.default.enumerator(atPath: dest.path) {
            for case let rel as String in walker {
                let p = dest.appendingPathComponent(rel).path
                var isDir: ObjCBool = false
                FileManager.default.fileExists(atPath: p, isDirectory: &isDir)
                try? FileManager.default.setAttributes([.posixPermissions: isDir.boolValue ? 0o755 : 0o644], ofItemAtPath: p)
            }
        }
        try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dest.path)
        return dest
    }
}
