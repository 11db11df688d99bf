import Foundation
import Testing

@Suite(.timeLimit(.minutes(3)))
struct ProtoDescriptorTests {
    @Test func everyMessageAndFieldMatchesTheOfficialProto() async throws {
        let result = try await run(["python3", RepoPaths.scripts + "/compare_descriptors.py", RepoPaths.proto, RepoPaths.referenceProto])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains(" 0 mismatches"))
    }

    @Test func aChangedFieldNumberIsDetected() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-proto-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let original = try String(contentsOfFile: RepoPaths.proto, encoding: .utf8)
        let altered = original.replacingOccurrences(of: "string vendor_version = 2;", with: "string vendor_version = 4;")
        #expect(altered != original)
        let path = dir.appendingPathComponent("csi.proto").path
        try altered.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try await run(["python3", RepoPaths.scripts + "/compare_descriptors.py", path, RepoPaths.referenceProto])
        #expect(result.status == 1)
        #expect(result.output.contains("csi.v1.GetPluginInfoResponse.vendor_version"))
    }

    @Test func committedGeneratedCodeIsCurrent() async throws {
        let result = try await run(["bash", "scripts/gen-proto.sh", "--check"])
        #expect(result.status == 0, "\(result.output)")
    }
}
