/// An error of the local control plane (start-up, configuration, built-in data); `message` says what failed.
public struct LocalClusterError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public let file: String
    public let line: Int
    public init(_ message: String, file: String = #fileID, line: Int = #line) {
        self.message = message
        self.file = file
        self.line = line
    }
    public var description: String { message }
}
