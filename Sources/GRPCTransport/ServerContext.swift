/// What a server handler knows about the call it serves.
public struct ServerContext: Sendable {
    /// The full method path, e.g. `/csi.v1.Identity/Probe`.
    public let method: String
    /// When the client's deadline expires, or `nil` if the client set none. gRPC core cancels the call at this
    /// instant; the handler's task is then cancelled, so handlers only need to honour task cancellation.
    public let deadline: ContinuousClock.Instant?

    public init(method: String, deadline: ContinuousClock.Instant?) {
        self.method = method
        self.deadline = deadline
    }
}

/// Serves one unary method: receives the serialized request, returns the serialized response.
///
/// Runs in its own task. Throw ``RPCError`` to choose the status; `CancellationError` becomes CANCELLED and any
/// other error UNKNOWN with the error's description. The task is cancelled when the client cancels, the deadline
/// expires, or the server is shut down past its grace period.
public typealias UnaryHandler = @Sendable (_ request: [UInt8], _ context: ServerContext) async throws -> [UInt8]

/// Server settings.
public struct ServerConfiguration: Sendable {
    /// Where to listen: `unix:///path`, `unix:/path` or an absolute path. A stale socket file is replaced.
    public var address: String
    /// Largest request accepted; larger ones fail with RESOURCE_EXHAUSTED. gRPC's default is 4 MiB.
    public var maxReceiveMessageBytes: Int
    /// Largest response sent; `nil` = unlimited.
    public var maxSendMessageBytes: Int?
    /// How many requests for a call are kept posted per method; bounds the accept burst, not concurrency
    /// (calls beyond it wait inside gRPC core until a request is re-posted, which happens on every accept).
    public var pendingAccepts: Int
    /// Start each handler on the completion-queue thread, where it runs until its first suspension, instead of
    /// waking a cooperative-pool thread for it, which saves one thread wake-up per call. Off by default: a handler
    /// that computes (or blocks) before its first `await` would hold up every other call's completions meanwhile.
    /// Turn it on only for handlers known to return or suspend at once (the round-trip benchmark does).
    public var startsHandlersOnQueueThread: Bool
    /// How long the completion-queue thread keeps polling, yielding the CPU between polls, after each
    /// completion before it sleeps; see ``ChannelConfiguration/busyPoll``. Zero turns busy polling off.
    public var busyPoll: Duration

    public init(
        address: String, maxReceiveMessageBytes: Int = 4 * 1024 * 1024, maxSendMessageBytes: Int? = nil,
        pendingAccepts: Int = 4, startsHandlersOnQueueThread: Bool = false, busyPoll: Duration = .microseconds(200)
    ) {
        self.address = address
        self.maxReceiveMessageBytes = maxReceiveMessageBytes
        self.maxSendMessageBytes = maxSendMessageBytes
        self.pendingAccepts = pendingAccepts
        self.startsHandlersOnQueueThread = startsHandlersOnQueueThread
        self.busyPoll = busyPoll
    }
}
