import Foundation
import Kube

/// JSON Patch (RFC 6902) with JSON Pointers (RFC 6901): add, remove, replace, move, copy, test.
enum JSONPatch {
    struct Failure: Error { let message: String }

    static func apply(_ patch: JSONValue, to original: JSONObject) throws(Failure) -> JSONObject {
        guard case .array(let ops) = patch else { throw Failure(message: "json patch must be an array of operations") }
        var doc = JSONValue.object(original)
        for op in ops {
            guard let o = op.object, let kind = o["op"]?.string, let path = o["path"]?.string else {
                throw Failure(message: "json patch operation needs op and path: \(JSONCoding.string(op))")
            }
            let pointer = try parse(path)
            switch kind {
            case "add": doc = try set(doc, pointer, try value(o), insert: true)
            case "replace":
                _ = try get(doc, pointer)
                doc = try set(doc, pointer, try value(o), insert: false)
            case "remove": doc = try remove(doc, pointer)
            case "move", "copy":
                guard let from = o["from"]?.string else { throw Failure(message: "\(kind) operation needs from") }
                let source = try parse(from)
                let v = try get(doc, source)
                if kind == "move" { doc = try remove(doc, source) }
                doc = try set(doc, pointer, v, insert: true)
            case "test":
                guard try get(doc, pointer) == (try value(o)) else { throw Failure(message: "testing value \(path) failed") }
            default: throw Failure(message: "Unexpected kind: \(kind)")
            }
        }
        guard case .object(let result) = doc else { throw Failure(message: "json patch replaced the whole object") }
        return result
    }

    static func value(_ o: JSONObject) throws(Failure) -> JSONValue {
        guard let v = o["value"] else { throw Failure(message: "operation needs a value") }
        return v
    }

    static func parse(_ path: String) throws(Failure) -> [String] {
        if path.isEmpty { return [] }
        guard path.hasPrefix("/") else { throw Failure(message: "json pointer must start with /: \(path)") }
        return path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    static func get(_ doc: JSONValue, _ pointer: [String]) throws(Failure) -> JSONValue {
        var cur = doc
        for token in pointer {
            switch cur {
            case .object(let o):
                guard let next = o[token] else { throw Failure(message: "doc is missing path: /\(pointer.joined(separator: "/"))") }
                cur = next
            case .array(let a):
                guard let i = Int(token), a.indices.contains(i) else { throw Failure(message: "array index out of bounds: \(token)") }
                cur = a[i]
            default: throw Failure(message: "doc is missing path: /\(pointer.joined(separator: "/"))")
            }
        }
        return cur
    }

    static func set(_ doc: JSONValue, _ pointer: [String], _ v: JSONValue, insert: Bool) throws(Failure) -> JSONValue {
        guard let token = pointer.first else { return v }
        let rest = Array(pointer.dropFirst())
        switch doc {
        case .object(var o):
            if rest.isEmpty { o[token] = v; return .object(o) }
            guard let child = o[token] else { throw Failure(message: "doc is missing path: \(token)") }
            o[token] = try set(child, rest, v, insert: insert)
            return .object(o)
        case .array(var a):
            if rest.isEmpty {
                if token == "-" { a.append(v); return .array(a) }
                guard let i = Int(token), i >= 0, i <= a.count, insert || i < a.count else {
                    throw Failure(message: "array index out of bounds: \(token)")
                }
                if insert { a.insert(v, at: i) } else { a[i] = v }
                return .array(a)
            }
            guard let i = Int(token), a.indices.contains(i) else { throw Failure(message: "array index out of bounds: \(token)") }
            a[i] = try set(a[i], rest, v, insert: insert)
            return .array(a)
        default: throw Failure(message: "cannot descend into a scalar at \(token)")
        }
    }

    static func remove(_ doc: JSONValue, _ pointer: [String]) throws(Failure) -> JSONValue {
        guard let token = pointer.first else { throw Failure(message: "cannot remove the whole document") }
        let rest = Array(pointer.dropFirst())
        switch doc {
        case .object(var o):
            guard let child = o[token] else { throw Failure(message: "Unable to remove nonexistent key: \(token): missing value") }
            if rest.isEmpty { o[token] = nil } else { o[token] = try remove(child, rest) }
            return .object(o)
        case .array(var a):
            guard let i = Int(token), a.indices.contains(i) else { throw Failure(message: "array index out of bounds: \(token)") }
            if rest.isEmpty { a.remove(at: i) } else { a[i] = try remove(a[i], rest) }
            return .array(a)
        default: throw Failure(message: "cannot descend into a scalar at \(token)")
        }
    }
}
