import Foundation
import KopiaTestSupport
import Testing

/// Errors print one clear line on stderr and exit with the documented code (Sources/ferry/ExitCodes.swift).
struct CLIErrorTests {
    struct Case: Sendable, CustomStringConvertible {
        let name: String
        let args: [String]
        let fixture: String?
        let extraEnvironment: [String: String]
        let status: Int32
        let mentions: [String]
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "no snapshot matches lists the identities", args: ["ls", "--identity", "nobody@nowhere:/data"],
             fixture: "fs-identities", extraEnvironment: [:], status: 4,
             mentions: ["nobody@nowhere:/data", "webapp-backup-production@production:/data (3 snapshots)",
                        "db-backup-production@production:/data (2 snapshots)", "webapp-backup-staging@staging:/data"]),
        Case(name: "ambiguous ID prefix lists the candidates", args: ["ls", "--snapshot", "e"],
             fixture: "fs-identities", extraEnvironment: [:], status: 4,
             mentions: ["e89466437067fceda9767a7212f8c974", "ee7c06eb36aa17a0c9a9779a6da11d7b"]),
        Case(name: "unknown ID lists the identities", args: ["ls", "--snapshot", "0000"],
             fixture: "fs-default", extraEnvironment: [:], status: 4,
             mentions: ["0000", "webapp-backup-production@production:/data (3 snapshots)"]),
        Case(name: "several identities need a choice", args: ["ls"], fixture: "fs-identities", extraEnvironment: [:],
             status: 4, mentions: ["--identity", "webapp-backup-staging@staging:/data"]),
        Case(name: "previous past the oldest", args: ["ls", "--previous", "3"], fixture: "fs-default",
             extraEnvironment: [:], status: 4, mentions: ["3 complete snapshots", "--previous 3"]),
        Case(name: "wrong password", args: ["snapshot", "list"], fixture: "fs-default",
             extraEnvironment: ["KOPIA_PASSWORD": "not-the-password"], status: 3, mentions: ["wrong password"]),
        Case(name: "an unreachable S3 endpoint is named",
             args: ["snapshot", "list", "--repo", "s3://bucket/prefix", "--s3-endpoint", "http://127.0.0.1:1"],
             fixture: nil, extraEnvironment: ["KOPIA_PASSWORD": "x"], status: 6,
             mentions: ["http://127.0.0.1:1", "connection refused"]),
        Case(name: "no repository given", args: ["snapshot", "list"], fixture: nil,
             extraEnvironment: ["KOPIA_PASSWORD": "x"], status: 2, mentions: ["KOPIA_REPOSITORY"]),
        Case(name: "no password given", args: ["snapshot", "list", "--repo", "/nonexistent"], fixture: nil,
             extraEnvironment: [:], status: 2, mentions: ["KOPIA_PASSWORD"]),
        Case(name: "bad as-of time", args: ["ls", "--as-of", "yesterday"], fixture: "fs-default",
             extraEnvironment: [:], status: 2, mentions: ["yesterday", "RFC 3339"]),
        Case(name: "as-of with an ID", args: ["ls", "--snapshot", "f385", "--previous", "1"], fixture: "fs-default",
             extraEnvironment: [:], status: 2, mentions: ["--snapshot"]),
        Case(name: "not a repository", args: ["snapshot", "list", "--repo", "/nonexistent-ferry-repo"], fixture: nil,
             extraEnvironment: ["KOPIA_PASSWORD": "x"], status: 3, mentions: ["/nonexistent-ferry-repo"]),
    ]

    @Test(arguments: cases)
    func errorsPrintOneLineAndExitWithTheDocumentedCode(_ c: Case) throws {
        var env = c.fixture.map(FerryProcess.fixtureEnvironment) ?? [:]
        env.merge(c.extraEnvironment) { $1 }
        let result = try FerryProcess.run(c.args, environment: env)
        #expect(result.status == c.status, "stderr: \(result.stderr)")
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.hasPrefix("ferry: error: "))
        for m in c.mentions { #expect(result.stderr.contains(m), "missing \"\(m)\" in: \(result.stderr)") }
    }

    @Test func passwordFileOverridesTheEnvironment() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-pw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("password")
        try Data((Fixtures.password + "\n").utf8).write(to: file)
        var env = FerryProcess.fixtureEnvironment("fs-default")
        env["KOPIA_PASSWORD"] = "wrong"
        let result = try FerryProcess.run(["snapshot", "list", "--password-file", file.path], environment: env)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("f38543d169177c8e75d5151f6b8ed16b"))
    }

    @Test func helpDocumentsTheExitCodes() throws {
        let result = try FerryProcess.run(["ls", "--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("EXIT CODES"))
        #expect(result.stdout.contains("--snapshot"))
        #expect(result.stdout.contains("--as-of"))
    }
}

struct CLIUsageTests {
    @Test(arguments: [["ls", "--no-such-flag"], ["snapshot", "list", "extra"], ["ls", "--previous", "x"]])
    func argumentErrorsExitWithTheUsageCode(_ args: [String]) throws {
        let result = try FerryProcess.run(args)
        #expect(result.status == 2, "stderr: \(result.stderr)")
        #expect(!result.stderr.isEmpty)
    }
}
