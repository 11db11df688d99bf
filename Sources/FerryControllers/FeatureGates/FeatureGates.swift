import Foundation

/// Ferry's feature gates, a value handed to the controllers (never process-global state).
///
/// | Gate | Owner | KEP | Stage | Default |
/// |---|---|---|---|---|
/// | `CrossNamespaceVolumeDataSource` | sig-storage | KEP-3294 | Alpha (upstream) | false |
///
/// With the gate off, a namespaced `dataSourceRef` to a Ferry kind gets one Warning event and no action;
/// DataSourceLinks keep working (they need no gate).
public struct FeatureGates: Sendable, Hashable {
    public static let known: Set<String> = ["CrossNamespaceVolumeDataSource"]

    public var crossNamespaceVolumeDataSource: Bool

    public init(crossNamespaceVolumeDataSource: Bool = false) {
        self.crossNamespaceVolumeDataSource = crossNamespaceVolumeDataSource
    }

    /// Parses `--feature-gates` values (`A=true,B=false`); repeated flags merge, later ones win (upstream's
    /// `MapStringBool`).
    /// - Throws: ``FeatureGateError`` for an unknown gate or a value that is not a boolean.
    public init(parsing values: [String]) throws(FeatureGateError) {
        self.init()
        for value in values {
            for item in value.split(separator: ",", omittingEmptySubsequences: true) {
                let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2 else { throw FeatureGateError(message: "missing bool value for \(item)") }
                guard let enabled = Bool(parts[1].lowercased()) else {
                    throw FeatureGateError(message: "invalid value of \(parts[0])=\(parts[1]), err: strconv.ParseBool: parsing \"\(parts[1])\": invalid syntax")
                }
                switch parts[0] {
                case "CrossNamespaceVolumeDataSource": crossNamespaceVolumeDataSource = enabled
                default: throw FeatureGateError(message: "unrecognized feature gate: \(parts[0])")
                }
            }
        }
    }
}

public struct FeatureGateError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
