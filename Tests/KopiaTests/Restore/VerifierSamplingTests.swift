import Kopia
import Synchronization
import Testing

/// `ferry verify --percent` samples with the injected random source, so a sample is reproducible.
struct VerifierSamplingTests {
    typealias S = RestoreTestSupport

    /// Returns the scripted values in order, then repeats the last one.
    final class ScriptedRandom: RandomSource {
        private let values: Mutex<[UInt64]>
        init(_ values: [UInt64]) { self.values = Mutex(values) }
        func next() -> UInt64 { values.withLock { $0.count > 1 ? $0.removeFirst() : ($0.first ?? 0) } }
    }

    @Test func theInjectedRandomSourceChoosesTheSample() async throws {
        let (repo, _) = try await RestoreDamageTests.repositoryWithBigFile()
        defer { S.remove(repo) }
        let opened = try await S.open(repo)
        let root = try opened.select(SnapshotSelection(target: .only)).rootEntry
        // unitInterval() of 0 is 0.0 (< 0.5: sampled); of UInt64.max it is just below 1 (not sampled).
        for (script, expected) in [([UInt64(0), .max, .max], 1), ([0, 0, .max], 2), ([.max], 0), ([0], 3)] {
            let result = try await SnapshotVerifier(repository: opened, random: ScriptedRandom(script), logger: S.logger)
                .verify(root, percent: 50)
            #expect(result.filesChecked == expected, "script \(script)")
            #expect(result.filesInSnapshot == 3)
        }
    }

    @Test func aSeededSourceRepeatsItsSample() async throws {
        let a = SeededRandomSource(seed: 42), b = SeededRandomSource(seed: 42)
        let first = (0..<100).map { _ in a.next() }
        #expect(first == (0..<100).map { _ in b.next() })
        #expect(Set(first).count == 100)
        #expect(first.allSatisfy { (0..<1).contains(Double($0 >> 11) * 0x1.0p-53) })
    }
}
