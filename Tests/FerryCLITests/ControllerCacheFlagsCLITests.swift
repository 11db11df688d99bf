import Foundation
import Testing

/// `ferry controller`'s repository-cache flags (`--kopia-repository-cache-size` …): bad values are usage errors
/// (exit 2) naming the flag and what it accepts, before anything connects; good values pass validation; the help
/// lists them under their own heading with their defaults and hides the deprecated alias.
struct ControllerCacheFlagsCLITests {
    struct Case: Sendable, CustomTestStringConvertible {
        let args: [String]
        let mentions: [String]
        var testDescription: String { args.joined(separator: " ") }
    }

    static let bad: [Case] = [
        Case(args: ["--kopia-repository-cache-size", "0"], mentions: ["--kopia-repository-cache-size", "at least 1"]),
        Case(args: ["--kopia-repository-cache-size", "many"], mentions: ["many", "--kopia-repository-cache-size"]),
        Case(args: ["--kopia-repository-cache-max-index-entries", "0"],
             mentions: ["--kopia-repository-cache-max-index-entries", "at least 1"]),
        Case(args: ["--kopia-repository-idle-timeout", "0"], mentions: ["--kopia-repository-idle-timeout", "more than 0"]),
        Case(args: ["--kopia-repository-idle-timeout", "ten minutes"],
             mentions: ["--kopia-repository-idle-timeout", "ten minutes", "Go syntax"]),
        Case(args: ["--kopia-index-refresh-interval", "500ms"], mentions: ["--kopia-index-refresh-interval", "at least 1s"]),
        Case(args: ["--kopia-index-refresh-interval", "200h"], mentions: ["--kopia-index-refresh-interval", "168h"]),
        Case(args: ["--repository-refresh-interval", "fast"], mentions: ["--repository-refresh-interval", "fast"]),
        Case(args: ["--kopia-index-refresh-interval", "5s", "--repository-refresh-interval", "7s"],
             mentions: ["--kopia-index-refresh-interval", "--repository-refresh-interval", "disagree"]),
        Case(args: ["--kopia-wrong-password-retry-interval=-1s"],
             mentions: ["--kopia-wrong-password-retry-interval", "-1s"]),
    ]

    @Test(arguments: bad)
    func aBadCacheFlagIsAUsageErrorNamingTheFlag(_ c: Case) throws {
        // A kubeconfig that does not exist: a flag that passed validation would fail on it instead.
        let result = try FerryProcess.run(["controller", "--standalone", "--kubeconfig", "/nonexistent/kubeconfig"] + c.args)
        #expect(result.status == 2)
        for word in c.mentions { #expect(result.stderr.contains(word), "\(word) in \(result.stderr)") }
        #expect(!result.stderr.contains("kubeconfig found"), "validation comes before connecting")
    }

    @Test
    func goodCacheFlagsPassValidationAndTheControllerGoesOnToConnect() throws {
        for args in [["--kopia-repository-cache-size=4", "--kopia-repository-cache-max-index-entries=2000000",
                      "--kopia-repository-idle-timeout=1h", "--kopia-index-refresh-interval=30s",
                      "--kopia-wrong-password-retry-interval=0"],
                     ["--repository-refresh-interval", "1s"],
                     ["--kopia-index-refresh-interval", "2m", "--repository-refresh-interval", "2m"]] {
            let result = try FerryProcess.run(["controller", "--standalone", "--kubeconfig", "/nonexistent/kubeconfig"] + args)
            #expect(result.stderr.contains("no kubeconfig found"), "\(args): \(result.stderr)")
            #expect(!result.stderr.contains("--kopia") && !result.stderr.contains("refresh-interval"), "\(args)")
        }
    }

    @Test
    func theHelpListsTheCacheFlagsWithTheirDefaultsAndHidesTheDeprecatedName() throws {
        let help = try FerryProcess.run(["controller", "--help"]).stdout
        let section = try #require(help.range(of: "KOPIA REPOSITORY CACHE:")).upperBound
        let text = String(help[section...].prefix { _ in true }).components(separatedBy: "\n\n").first ?? ""
        let flat = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for (flag, value) in [("--kopia-repository-cache-size", "(default: 32)"),
                              ("--kopia-repository-cache-max-index-entries", "(default: 20000000)"),
                              ("--kopia-repository-idle-timeout", "(default: 10m)"),
                              ("--kopia-index-refresh-interval", "(default: 15s)"),
                              ("--kopia-wrong-password-retry-interval", "(default: 2m)")] {
            let at = try #require(flat.range(of: flag), "\(flag) in the cache section")
            let rest = flat[at.upperBound...]
            let next = rest.range(of: " --kopia")?.lowerBound ?? rest.endIndex
            #expect(rest[..<next].contains(value), "\(flag) \(value)")
        }
        #expect(!help.contains("--repository-refresh-interval"))
    }
}
