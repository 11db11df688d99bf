import Foundation
import Kopia
import Kube
import Testing

/// Rules of the source tree that the compiler does not enforce (issue 17 items 8 and 9).
struct SourceTreeRulesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A case-insensitive checkout (macOS, Windows) would silently lose one of two paths that differ only in case
    /// (`Kube/Config/KubeConfig.swift` and `Kubeconfig.swift` did).
    @Test func noTwoPathsDifferOnlyInCase() throws {
        var seen: [String: String] = [:]
        var clashes: [String] = []
        for top in ["Sources", "Tests", "Benchmarks", "scripts"] {
            let base = Self.root.appendingPathComponent(top)
            guard let walker = FileManager.default.enumerator(atPath: base.path) else { continue }
            while let rel = walker.nextObject() as? String {
                let path = top + "/" + rel
                if let other = seen[path.lowercased()], other != path { clashes.append("\(other) ↔ \(path)") }
                seen[path.lowercased()] = path
            }
        }
        #expect(clashes.isEmpty, "paths differing only in case: \(clashes)")
    }

    /// A file that imports both Kopia and Kube can name Kube's `JSONValue` unqualified (Kopia's is `ManifestJSON`).
    @Test func aFileImportingKopiaAndKubeNamesJSONValueUnambiguously() throws {
        let patch: JSONValue = ["metadata": ["labels": ["ferry.io/restored": "true"]]]
        #expect(patch.object?["metadata"] != nil)
        let manifestData: ManifestJSON = .object(["k": .string("v")])
        #expect(manifestData != .null)
    }
}
