import ArgumentParser
import Foundation
import Kopia
import Synchronization

/// A command-line problem found by a command itself (not by the argument parser).
enum CommandError: Error, CustomStringConvertible {
    case usage(String)

    var description: String {
        switch self {
        case .usage(let message): message
        }
    }
}

/// Turns any error into one line on stderr and the exit code of `ExitCodes`.
enum CommandFailure {
    /// The exit code for a Kopia engine error.
    static func exitCode(for error: KopiaError) -> Int32 {
        switch error.code {
        case .wrongPassword, .notARepository, .unsupportedFormat, .unknownAlgorithm:
            ExitCodes.repository
        case .snapshotNotFound, .pathNotFound, .ambiguousSelection:
            ExitCodes.notFound
        case .corruptBlob, .truncatedData, .blobNotFound, .contentNotFound, .corruptContent, .invalidObjectID,
             .invalidManifest, .invalidDirectory:
            ExitCodes.damaged
        case .invalidArgument, .unsafePath:
            ExitCodes.usage
        case .storageFailure:
            error.retry == .transient ? ExitCodes.unavailable : ExitCodes.failure
        default:
            ExitCodes.failure
        }
    }

    /// Runs a command body; on failure prints `ferry: error: …` (one line) and exits with the mapped code.
    static func run(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as KopiaError {
            throw report(error.description, code: exitCode(for: error))
        } catch let error as CommandError {
            throw report(error.description, code: ExitCodes.usage)
        } catch let error as ExitCode {
            throw error
        } catch {
            throw report("\(error)", code: ExitCodes.failure)
        }
    }

    /// The last message reported (`ferry populate` copies it into its report).
    static var lastMessage: String? {
        get { last.withLock { $0 } }
        set { last.withLock { $0 = newValue } }
    }
    private static let last = Mutex<String?>(nil)

    private static func report(_ message: String, code: Int32) -> ExitCode {
        let line = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        lastMessage = line
        FileHandle.standardError.write(Data("ferry: error: \(line)\n".utf8))
        return ExitCode(code)
    }
}
