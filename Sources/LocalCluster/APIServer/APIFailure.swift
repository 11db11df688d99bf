import Kube

/// An API error answer (a `Status` object) raised inside the test server.
struct APIFailure: Error {
    var code: Int
    var reason: String
    var message: String
    var details: JSONObject?
    var headers: [(String, String)] = []

    static func badRequest(_ m: String) -> APIFailure { APIFailure(code: 400, reason: "BadRequest", message: m) }
    static func notFound(_ type: ResourceType, _ name: String) -> APIFailure {
        APIFailure(code: 404, reason: "NotFound", message: "\(type.qualifiedName) \"\(name)\" not found",
                   details: ["name": .string(name), "group": .string(type.group), "kind": .string(type.plural)])
    }
    static func conflict(_ type: ResourceType, _ name: String, _ why: String) -> APIFailure {
        APIFailure(code: 409, reason: "Conflict",
                   message: "Operation cannot be fulfilled on \(type.qualifiedName) \"\(name)\": \(why)",
                   details: ["name": .string(name), "group": .string(type.group), "kind": .string(type.plural)])
    }
    /// 422 Invalid: `<Kind>[.<group>] "<name>" is invalid: <cause>` (several causes in brackets, comma-separated).
    static func invalid(_ type: ResourceType, _ name: String, causes: [FieldError]) -> APIFailure {
        let rendered = causes.map { "\($0.field): \($0.message)" }
        let text = rendered.count == 1 ? rendered[0] : "[" + rendered.joined(separator: ", ") + "]"
        return APIFailure(code: 422, reason: "Invalid", message: "\(type.qualifiedKind) \"\(name)\" is invalid: \(text)",
                          details: ["name": .string(name), "group": .string(type.group), "kind": .string(type.kind),
                                    "causes": .array(causes.map { ["field": .string($0.field), "reason": .string($0.reason),
                                                                   "message": .string($0.message)] })])
    }

    static func invalid(_ type: ResourceType, _ name: String, causes: [(field: String, reason: String, message: String)]) -> APIFailure {
        invalid(type, name, causes: causes.map { FieldError(field: $0.field, reason: $0.reason, message: $0.message) })
    }

    /// 409 for a failed DELETE precondition: the Kind stands where the resource usually is (`rest.BeforeDelete`).
    static func preconditionFailed(_ type: ResourceType, _ name: String, _ why: String) -> APIFailure {
        APIFailure(code: 409, reason: "Conflict", message: "Operation cannot be fulfilled on \(type.qualifiedKind) \"\(name)\": \(why)",
                   details: ["name": .string(name), "group": .string(type.group), "kind": .string(type.kind)])
    }

    /// 422 for invalid list/watch options (`ListOptions.meta.k8s.io "" is invalid: <field>: <message>`).
    static func invalid(watchListOptions field: String, _ message: String) -> APIFailure {
        APIFailure(code: 422, reason: "Invalid", message: "ListOptions.meta.k8s.io \"\" is invalid: \(field): \(message)",
                   details: ["group": "meta.k8s.io", "kind": "ListOptions",
                             "causes": [["field": .string(field), "reason": "FieldValueInvalid", "message": .string(message)]]])
    }

    var status: JSONValue {
        var o: JSONObject = ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
                             "message": .string(message), "reason": .string(reason), "code": .int(Int64(code))]
        if let details { o["details"] = .object(details) }
        return .object(o)
    }
}

extension ResourceType {
    /// `Kind` for the core group, `Kind.group` otherwise (`schema.GroupKind.String()`).
    var qualifiedKind: String { group.isEmpty ? kind : "\(kind).\(group)" }
}
