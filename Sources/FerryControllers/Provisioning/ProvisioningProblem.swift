/// A provisioning step that cannot go on: the request is invalid for this claim or class, or the driver answered
/// with an error. ``message`` is what the claim's Warning event says.
public struct ProvisioningProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case invalidClaim = "InvalidClaim"
        case invalidStorageClass = "InvalidStorageClass"
        case driverUnsupported = "DriverUnsupported"
        /// CreateVolume answered without echoing the content source.
        case contentSourceMissing = "ContentSourceMissing"
        /// CreateVolume answered with less capacity than requested.
        case capacityTooSmall = "CapacityTooSmall"
        case secretUnavailable = "SecretUnavailable"
    }
    public var kind: Kind
    public var message: String
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
    public var reason: String { kind.rawValue }
    public var description: String { message }
}
