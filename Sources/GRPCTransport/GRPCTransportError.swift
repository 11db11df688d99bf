/// A failure to set up or run the transport itself (not an RPC status): binding, channel creation, lifecycle.
public struct GRPCTransportError: Error, Sendable, Equatable, CustomStringConvertible, RetryClassifying {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable { case invalidAddress, bindFailed, channelCreationFailed, alreadyShutDown }
        private let value: Value
        /// The address is not a `unix://` socket address Ferry can use.
        public static let invalidAddress = Code(value: .invalidAddress)
        /// The server could not listen on the address (missing directory, permission).
        public static let bindFailed = Code(value: .bindFailed)
        /// gRPC core refused to create the channel.
        public static let channelCreationFailed = Code(value: .channelCreationFailed)
        /// The server or channel was already shut down.
        public static let alreadyShutDown = Code(value: .alreadyShutDown)
        public var description: String { "\(value)" }
    }

    public var code: Code
    public var message: String
    /// The address involved.
    public var address: String
    public var fileID: String
    public var line: Int

    public init(_ code: Code, _ message: String, address: String, fileID: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.address = address
        self.fileID = fileID
        self.line = line
    }

    /// Binding and channel creation fail the same way on retry until the environment changes.
    public var retry: RetryClass { .permanent }

    public var description: String { "\(code): \(message) (address \(address))" }

    public static func == (lhs: GRPCTransportError, rhs: GRPCTransportError) -> Bool { lhs.code == rhs.code }
}
