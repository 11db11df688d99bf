public import GRPCTransport

/// A top-level CSI request or response message with its protobuf wire form.
public protocol CSIMessage: Hashable, Sendable {
    /// The protobuf encoding (map entries sorted by key, so equal values encode equally).
    func serializedBytes() -> [UInt8]
    /// Decodes the protobuf encoding. Unknown fields are skipped.
    /// - Throws: ``CSIDecodingError`` for bytes that are not a valid encoding of this message.
    init(serializedBytes bytes: [UInt8]) throws(CSIDecodingError)
}

/// Bytes that do not decode as the expected CSI message.
public struct CSIDecodingError: Error, Sendable, Equatable, CustomStringConvertible, RetryClassifying {
    /// The protobuf type name, e.g. `csi.v1.CreateVolumeRequest`.
    public var messageType: String
    public var byteCount: Int
    public var fileID: String
    public var line: Int

    public init(messageType: String, byteCount: Int, fileID: String = #fileID, line: Int = #line) {
        self.messageType = messageType
        self.byteCount = byteCount
        self.fileID = fileID
        self.line = line
    }

    /// The same bytes never decode.
    public var retry: RetryClass { .permanent }

    public var description: String { "\(byteCount) bytes are not a valid \(messageType)" }

    public static func == (lhs: CSIDecodingError, rhs: CSIDecodingError) -> Bool {
        lhs.messageType == rhs.messageType
    }
}

/// `google.protobuf.Timestamp`: seconds and nanoseconds since the Unix epoch.
public struct Timestamp: Hashable, Sendable {
    public var seconds: Int64
    public var nanos: Int32

    public init(seconds: Int64 = 0, nanos: Int32 = 0) {
        self.seconds = seconds
        self.nanos = nanos
    }
}
