/// Polls `condition` until it holds or `timeout` passes; true if it held. A condition that throws counts as not
/// (yet) holding: for conditions read through the API or kubectl while objects appear.
public func poll(_ timeout: Duration = .seconds(20), every interval: Duration = .milliseconds(50),
                 _ condition: () async throws -> Bool) async -> Bool {
    await eventually(timeout, every: interval) { (try? await condition()) == true }
}

/// Polls `condition` until it holds or `timeout` passes; true if it held. A condition that throws ends the wait
/// with its error (for conditions that must not fail on the way).
public func eventually(_ timeout: Duration = .seconds(20), every interval: Duration = .milliseconds(50),
                       _ condition: () async throws -> Bool) async rethrows -> Bool {
    let end = ContinuousClock.now + timeout
    while ContinuousClock.now < end {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}
