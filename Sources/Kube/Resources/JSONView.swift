/// A value convertible to and from ``JSONValue``.
public protocol JSONConvertible: Sendable {
    init?(json: JSONValue)
    var json: JSONValue { get }
}

extension String: JSONConvertible {
    public init?(json: JSONValue) { guard let s = json.string else { return nil }; self = s }
    public var json: JSONValue { .string(self) }
}
extension Bool: JSONConvertible {
    public init?(json: JSONValue) { guard let b = json.bool else { return nil }; self = b }
    public var json: JSONValue { .bool(self) }
}
extension Int: JSONConvertible {
    public init?(json: JSONValue) { guard let i = json.int else { return nil }; self = Int(i) }
    public var json: JSONValue { .int(Int64(self)) }
}
extension Int64: JSONConvertible {
    public init?(json: JSONValue) { guard let i = json.int else { return nil }; self = i }
    public var json: JSONValue { .int(self) }
}
extension Double: JSONConvertible {
    public init?(json: JSONValue) {
        switch json { case .double(let d): self = d; case .int(let i): self = Double(i); default: return nil }
    }
    public var json: JSONValue { .double(self) }
}
extension JSONValue: JSONConvertible {
    public init?(json: JSONValue) { self = json }
    public var json: JSONValue { self }
}
extension Array: JSONConvertible where Element: JSONConvertible {
    public init?(json: JSONValue) {
        guard let a = json.array else { return nil }
        self = a.compactMap { Element(json: $0) }
    }
    public var json: JSONValue { .array(map(\.json)) }
}
extension Dictionary: JSONConvertible where Key == String, Value: JSONConvertible {
    public init?(json: JSONValue) {
        guard let o = json.object else { return nil }
        self = o.compactMapValues { Value(json: $0) }
    }
    public var json: JSONValue { .object(mapValues(\.json)) }
}

/// A typed view over a JSON object. The object itself is the storage, so every field the type does not model is kept
/// as it was read: reading an object, changing a modelled field and writing it back changes only that field.
public protocol JSONView: JSONConvertible, Hashable {
    var object: JSONObject { get set }
    init(object: JSONObject)
}

extension JSONView {
    public init() { self.init(object: [:]) }
    public init?(json: JSONValue) { guard let o = json.object else { return nil }; self.init(object: o) }
    public var json: JSONValue { .object(object) }

    /// Typed field access; assigning nil removes the key.
    public subscript<T: JSONConvertible>(key: String) -> T? {
        get { object[key].flatMap { T(json: $0) } }
        set { object[key] = newValue?.json }
    }
    /// A nested view that reads as empty when absent (assigning an empty view removes the key).
    public subscript<V: JSONView>(view key: String) -> V {
        get { object[key].flatMap { V(json: $0) } ?? V() }
        set { object[key] = newValue.object.isEmpty ? nil : newValue.json }
    }
}

/// An untyped view, for parts Ferry does not model.
public struct JSONMap: JSONView {
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
}
