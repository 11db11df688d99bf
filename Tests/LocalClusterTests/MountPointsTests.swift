import Foundation
@testable import LocalCluster
import Testing

/// Host mount points are shared by every local cluster on the machine, in any process: one cluster's kubelet must
/// not remove a mount point (and with it, through rmdir, another namespace's bind mount) that another still holds.
struct MountPointsTests {
    /// A state directory and a mount path below a directory that does not exist yet, both private to the test.
    static func scratch() -> (state: String, root: String) {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("mount-points-\(UUID().uuidString)").path
        return (base + "/state", base + "/host")
    }

    /// A process id that is not running any more (a child that has exited and been reaped).
    static func exitedProcessID() throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        return p.processIdentifier
    }

    @Test func aMountPointHeldByAnotherProcessSurvivesThisProcessRelease() throws {
        let (state, root) = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: (state as NSString).deletingLastPathComponent) }
        let path = root + "/var/run/secrets/token-dir"
        let this = MountPoints(stateDirectory: state)
        let other = MountPoints(stateDirectory: state, processID: 1)  // pid 1 is always running
        #expect(this.acquire(path, file: false) == nil)
        #expect(other.acquire(path, file: false) == nil)
        this.release(path)
        #expect(FileManager.default.fileExists(atPath: path), "the other process still binds there")
        other.release(path)
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(!FileManager.default.fileExists(atPath: root), "every directory created for it is gone again")
    }

    @Test func holdersOfAProcessThatIsGoneAreDroppedAndTheirPathsRemoved() throws {
        let (state, root) = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: (state as NSString).deletingLastPathComponent) }
        let crashed = MountPoints(stateDirectory: state, processID: try Self.exitedProcessID())
        let leaked = root + "/left/behind"
        #expect(crashed.acquire(leaked, file: true) == nil)
        #expect(FileManager.default.fileExists(atPath: leaked))
        // The next use of the state by a live process cleans up after the dead one.
        let this = MountPoints(stateDirectory: state)
        #expect(this.acquire(root + "/other", file: false) == nil)
        #expect(!FileManager.default.fileExists(atPath: leaked))
        #expect(!FileManager.default.fileExists(atPath: root + "/left"))
        this.release(root + "/other")
        #expect(!FileManager.default.fileExists(atPath: root))
    }

    @Test func pathsThatAlreadyExistedAreNeverRemoved() throws {
        let (state, root) = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: (state as NSString).deletingLastPathComponent) }
        try FileManager.default.createDirectory(atPath: root + "/existing", withIntermediateDirectories: true)
        let this = MountPoints(stateDirectory: state)
        #expect(this.acquire(root + "/existing", file: false) == nil)
        this.release(root + "/existing")
        #expect(FileManager.default.fileExists(atPath: root + "/existing"))
    }
}
