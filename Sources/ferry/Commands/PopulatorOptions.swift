import ArgumentParser
import CurlHTTP
import FerryControllers
import Kube
import Logging

/// `ferry controller`'s flags for Kopia populating (issue 13): where populator pods run and with which image.
struct PopulatorOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Namespace of populator pods, prime PVCs and their short-lived credentials Secrets (default: --namespace).",
                               valueName: "NAMESPACE"))
    var workNamespace: String?

    @Option(help: ArgumentHelp("Image of the populator pods, which run `ferry populate` (the chart passes its own image).",
                               valueName: "IMAGE"))
    var populatorImage = "ghcr.io/ferry-csi/ferry:0.1.0"

    @Option(help: ArgumentHelp("imagePullPolicy of the populator pods (default: the cluster's).", valueName: "POLICY"))
    var populatorPullPolicy: String?

    @Option(help: ArgumentHelp("The populator container's resources as JSON, e.g. {\"requests\":{\"memory\":\"128Mi\"},\"limits\":{\"memory\":\"192Mi\"}} (the chart passes populator.resources; default: none).",
                               valueName: "JSON"))
    var populatorResources: String?

    @Option(help: ArgumentHelp("Seconds between `ferry populate` progress reports.", valueName: "S"))
    var populatorProgressInterval: Double = 2

    func validate() throws {
        if populatorImage.isEmpty { throw ValidationError("--populator-image must not be empty") }
        if let p = populatorPullPolicy, !["Always", "IfNotPresent", "Never"].contains(p) {
            throw ValidationError("--populator-pull-policy must be Always, IfNotPresent or Never")
        }
        guard populatorProgressInterval > 0, populatorProgressInterval <= 3600 else {
            throw ValidationError("--populator-progress-interval must be between 0 and 3600 seconds")
        }
        _ = try resources()
    }

    /// `--populator-resources`: only `requests` and `limits`, each a map of resource name to quantity string.
    func resources() throws -> [String: [String: String]] {
        guard let text = populatorResources else { return [:] }
        let usage = "--populator-resources must be a JSON object with \"requests\" and/or \"limits\", each mapping a resource name to a quantity string (e.g. {\"limits\":{\"memory\":\"192Mi\"}})"
        guard let object = (try? JSONCoding.parse(Array(text.utf8)))?.object else { throw ValidationError(usage) }
        var result: [String: [String: String]] = [:]
        for (key, value) in object {
            guard key == "requests" || key == "limits", let map = value.object else {
                throw ValidationError(usage + "; got the key \"\(key)\"")
            }
            var quantities: [String: String] = [:]
            for (name, quantity) in map {
                let number: String? = switch quantity {
                case .int(let i): String(i)
                case .double(let d): String(d)
                default: nil
                }
                guard let q = quantity.string ?? number, !q.isEmpty, !name.isEmpty else {
                    throw ValidationError(usage + "; \(key).\(name) is not a quantity string")
                }
                quantities[name] = q
            }
            if !quantities.isEmpty { result[key] = quantities }
        }
        return result
    }

    /// The populator for `ferry controller`, sharing one S3 client for every repository it opens; its repository
    /// cache follows `cache` (`--kopia-repository-cache-size` …).
    func makePopulator(namespace: String, cache: RepositoryCacheOptions, logger: Logger) throws -> KopiaPopulator {
        let cacheSettings = try cache.settings()
        let settings = PopulatorObjects.Settings(workNamespace: workNamespace ?? namespace, image: populatorImage,
                                                 imagePullPolicy: populatorPullPolicy,
                                                 progressInterval: populatorProgressInterval, resources: try resources())
        return KopiaPopulator(settings: settings,
                              repositories: RepositoryCache(refreshInterval: cacheSettings.refreshInterval,
                                                            policy: cacheSettings.policy,
                                                            httpClient: try ProcessHTTPClient.shared(), logger: logger))
    }
}
