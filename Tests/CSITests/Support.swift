import Foundation

/// Repository paths, derived from this file's location (STYLE.md rule 14).
enum RepoPaths {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let proto = root.appendingPathComponent("proto/csi.proto").path
    /// The official csi.proto, at `../shared/reference/csi.proto` (override with `FERRY_CSI_REFERENCE`).
    static var referenceProto: String {
        ProcessInfo.processInfo.environment["FERRY_CSI_REFERENCE"]
            ?? root.deletingLastPathComponent().appendingPathComponent("shared/reference/csi.proto").path
    }
    static let scripts = root.appendingPathComponent("Tests/CSITests/Scripts").path
}

/// Runs a command to completion and returns its exit status and combined output.
func run(_ arguments: [String], in directory: String = RepoPaths.root.path) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
