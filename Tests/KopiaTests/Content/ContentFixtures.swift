import Foundation
import Kopia
import KopiaTestSupport
import Logging

/// Opens fixture repositories for the Content tests.
enum ContentFixtures {
    static let logger = Logger(label: "ferry.tests.content")

    static func storage(_ name: String) throws -> FilesystemStorage {
        try FilesystemStorage(root: Fixtures.kopia(name).path)
    }

    static func open(_ name: String) async throws -> (FilesystemStorage, RepositoryFormat, ContentManager) {
        let storage = try storage(name)
        let format = try await RepositoryFormat.open(storage: storage, password: Fixtures.password)
        let manager = try await ContentManager.open(storage: storage, format: format, logger: logger)
        return (storage, format, manager)
    }

    /// The root object IDs (`k…`) recorded in a fixture's MANIFEST.md snapshot table.
    static func manifestRootObjects(_ name: String) throws -> [ContentID] {
        let text = try String(contentsOf: Fixtures.kopia(name).appendingPathComponent("MANIFEST.md"), encoding: .utf8)
        let regex = try NSRegularExpression(pattern: "`(k[0-9a-f]{32,64})`")
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
            Range(match.range(at: 1), in: text).flatMap { ContentID(text[$0]) }
        }
    }
}
