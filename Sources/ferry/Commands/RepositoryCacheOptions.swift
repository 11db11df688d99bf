import ArgumentParser
import FerryControllers

/// `ferry controller`'s flags for the cache of opened Kopia repositories (`RepositoryCache`,
/// `RepositoryCachePolicy`): how many stay open, how much index they may hold, when they close, how often their
/// index is re-read, and how long a wrong password is not tried again. Names follow the CSI sidecars' style
/// (`--kube-api-qps`, `--retry-interval-max`): Go durations, plain counts.
struct RepositoryCacheOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Kopia repositories kept open at once, one per repository Secret version; beyond it the least recently used one closes (the one in use never does).",
                               valueName: "N"))
    var kopiaRepositoryCacheSize = RepositoryCachePolicy().maxRepositories

    @Option(help: ArgumentHelp("Index entries kept in memory over all open repositories; beyond it the least recently used repositories close (the one in use never does, even alone over the bound). An entry takes 49 bytes with 16-byte hashes (65 with 32-byte ones): 2000000 is about 94 MiB; while a repository's index is refreshed its old and new tables are both held.",
                               valueName: "N"))
    var kopiaRepositoryCacheMaxIndexEntries = RepositoryCachePolicy().maxIndexEntries

    @Option(help: ArgumentHelp("Close a repository no reconcile used for this long.", valueName: "DURATION"))
    var kopiaRepositoryIdleTimeout = "10m"

    @Option(help: ArgumentHelp("How old an open repository's index may get before it is read again, which is also how often each KopiaSnapshot's status is re-resolved: new snapshots appear within it, without a restart. A re-read lists the index blobs and reads only the ones added since (nothing more when none were). (default: 15s)",
                               valueName: "DURATION"))
    var kopiaIndexRefreshInterval: String?

    @Option(name: .customLong("repository-refresh-interval"),
            help: ArgumentHelp("Deprecated name of --kopia-index-refresh-interval.", valueName: "DURATION",
                               visibility: .hidden))
    var repositoryRefreshInterval: String?

    @Option(help: ArgumentHelp("How long a password that did not open a repository is not tried again for the same Secret version (no key derivation per retry); a changed Secret is tried at once. 0 tries every time.",
                               valueName: "DURATION"))
    var kopiaWrongPasswordRetryInterval = "2m"

    static let defaultRefreshInterval = "15s"

    /// The refresh interval and the policy the flags describe.
    struct Settings: Equatable {
        var refreshInterval: Duration
        var policy: RepositoryCachePolicy
    }

    func validate() throws {
        _ = try settings()
    }

    /// - Throws: `ValidationError` naming the flag, its value and what is accepted.
    func settings() throws -> Settings {
        func duration(_ flag: String, _ value: String, allowZero: Bool) throws -> Duration {
            guard let d = GoDuration.parse(value), allowZero ? d >= .zero : d > .zero, d <= .seconds(7 * 86_400) else {
                throw ValidationError("--\(flag): invalid duration \(value) (use Go syntax such as 30s or 5m; "
                                      + (allowZero ? "0" : "more than 0") + " up to 168h)")
            }
            return d
        }
        guard kopiaRepositoryCacheSize >= 1 else {
            throw ValidationError("--kopia-repository-cache-size must be at least 1 (got \(kopiaRepositoryCacheSize))")
        }
        guard kopiaRepositoryCacheMaxIndexEntries >= 1 else {
            throw ValidationError("--kopia-repository-cache-max-index-entries must be at least 1 (got \(kopiaRepositoryCacheMaxIndexEntries))")
        }
        if let new = kopiaIndexRefreshInterval, let old = repositoryRefreshInterval, new != old {
            throw ValidationError("--kopia-index-refresh-interval \(new) and its deprecated name --repository-refresh-interval \(old) disagree: give one")
        }
        let givenRefresh = kopiaIndexRefreshInterval ?? repositoryRefreshInterval
        let refreshFlag = kopiaIndexRefreshInterval == nil && repositoryRefreshInterval != nil
            ? "repository-refresh-interval" : "kopia-index-refresh-interval"
        // Zero would re-resolve every KopiaSnapshot in a loop: at least a second.
        let refresh = try duration(refreshFlag, givenRefresh ?? Self.defaultRefreshInterval, allowZero: false)
        guard refresh >= .seconds(1) else {
            throw ValidationError("--\(refreshFlag) must be at least 1s (got \(givenRefresh ?? ""))")
        }
        let policy = RepositoryCachePolicy(
            maxRepositories: kopiaRepositoryCacheSize, maxIndexEntries: kopiaRepositoryCacheMaxIndexEntries,
            idleTimeout: try duration("kopia-repository-idle-timeout", kopiaRepositoryIdleTimeout, allowZero: false),
            wrongPasswordMemory: try duration("kopia-wrong-password-retry-interval", kopiaWrongPasswordRetryInterval,
                                              allowZero: true))
        return Settings(refreshInterval: refresh, policy: policy)
    }
}
