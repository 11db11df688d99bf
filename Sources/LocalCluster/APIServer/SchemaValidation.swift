import Foundation
import Kube

/// Structural-schema pruning and validation of custom resources (apiextensions-apiserver `pkg/apiserver/schema/
/// pruning` and kube-openapi `validate`), with upstream's message shapes.
///
/// Supported: `type`, `properties`, `additionalProperties`, `items`, `required`, `enum`, `nullable`, `minimum`/
/// `maximum`, `minLength`/`maxLength`, `pattern`, `minItems`/`maxItems`, `x-kubernetes-preserve-unknown-fields`,
/// `x-kubernetes-int-or-string`, `x-kubernetes-embedded-resource`. Knowingly not evaluated: `format`, `anyOf`/`oneOf`/
/// `allOf`/`not` (beyond int-or-string), `x-kubernetes-validations` (CEL), defaults (`default`), list-type/map-type
/// uniqueness.
enum SchemaValidation {
    /// Removes fields the schema does not declare (unless preserved); returns the pruned value and the paths removed.
    static func prune(_ value: JSONValue, schema: JSONObject, path: String) -> (JSONValue, [String]) {
        if schema["x-kubernetes-preserve-unknown-fields"]?.bool == true && schema["properties"] == nil
            && schema["items"] == nil && schema["additionalProperties"] == nil {
            return (value, [])
        }
        switch value {
        case .object(let o):
            let props = schema["properties"]?.object ?? [:]
            let additional = schema["additionalProperties"]
            let preserve = schema["x-kubernetes-preserve-unknown-fields"]?.bool == true
            let embedded = schema["x-kubernetes-embedded-resource"]?.bool == true
            var out: JSONObject = [:]
            var removed: [String] = []
            for (k, v) in o {
                let child = path.isEmpty ? k : "\(path).\(k)"
                if let s = props[k]?.object {
                    let (p, r) = prune(v, schema: s, path: child)
                    out[k] = p
                    removed += r
                } else if case .object(let s)? = additional {
                    let (p, r) = prune(v, schema: s, path: child)
                    out[k] = p
                    removed += r
                } else if additional?.bool == true || preserve || (embedded && ["apiVersion", "kind", "metadata"].contains(k)) {
                    out[k] = v
                } else if path.isEmpty, ["apiVersion", "kind", "metadata"].contains(k) {
                    out[k] = v
                } else {
                    removed.append(child)
                }
            }
            return (.object(out), removed)
        case .array(let a):
            guard let items = schema["items"]?.object else { return (value, []) }
            var removed: [String] = []
            let pruned = a.enumerated().map { i, v -> JSONValue in
                let (p, r) = prune(v, schema: items, path: "\(path)[\(i)]")
                removed += r
                return p
            }
            return (.array(pruned), removed)
        default:
            return (value, [])
        }
    }

    static func typeName(_ v: JSONValue) -> String {
        switch v {
        case .object: "object"
        case .array: "array"
        case .string: "string"
        case .int: "integer"
        case .double: "number"
        case .bool: "boolean"
        case .null: "null"
        }
    }

    static func render(_ v: JSONValue) -> String {
        if case .string(let s) = v { return FieldError.quoted(s) }
        return JSONCoding.string(v)
    }

    static func validate(_ value: JSONValue, schema: JSONObject, path: String) -> [FieldError] {
        var errors: [FieldError] = []
        let shown = path.isEmpty ? "<root>" : path
        if case .null = value {
            if schema["nullable"]?.bool == true { return [] }
            if let type = schema["type"]?.string {
                return [.invalid(shown, "null", "\(shown) in body must be of type \(type): \"null\"")]
            }
            return []
        }
        if schema["x-kubernetes-int-or-string"]?.bool == true {
            switch value {
            case .int, .string: break
            default: errors.append(.invalid(shown, typeName(value), "\(shown) in body must be of type integer,string: \"\(typeName(value))\""))
            }
        } else if let type = schema["type"]?.string {
            let actual = typeName(value)
            let ok = actual == type || (type == "number" && actual == "integer")
            if !ok { return [.invalid(shown, actual, "\(shown) in body must be of type \(type): \"\(actual)\"")] }
        }
        if let allowed = schema["enum"]?.array, !allowed.contains(value) {
            errors.append(FieldError(field: shown, reason: "FieldValueNotSupported",
                                     message: "Unsupported value: \(render(value)): supported values: " + allowed.map(render).joined(separator: ", ")))
        }
        switch value {
        case .object(let o):
            for r in (schema["required"]?.array ?? []).compactMap(\.string) where o[r] == nil {
                errors.append(.required(path.isEmpty ? r : "\(path).\(r)"))
            }
            let props = schema["properties"]?.object ?? [:]
            for (k, v) in o.sorted(by: { $0.key < $1.key }) {
                let child = path.isEmpty ? k : "\(path).\(k)"
                if let s = props[k]?.object { errors += validate(v, schema: s, path: child) }
                else if let s = schema["additionalProperties"]?.object { errors += validate(v, schema: s, path: child) }
            }
        case .array(let a):
            if let min = schema["minItems"]?.int, a.count < min {
                errors.append(.invalidRaw(shown, "\(a.count)", "\(shown) in body should have at least \(min) items"))
            }
            if let max = schema["maxItems"]?.int, a.count > max {
                errors.append(FieldError(field: shown, reason: "FieldValueTooMany", message: "Too many: \(a.count): must have at most \(max) items"))
            }
            if let items = schema["items"]?.object {
                for (i, v) in a.enumerated() { errors += validate(v, schema: items, path: "\(path)[\(i)]") }
            }
        case .string(let s):
            if let max = schema["maxLength"]?.int, s.count > max {
                errors.append(FieldError(field: shown, reason: "FieldValueTooLong", message: "Too long: may not be more than \(max) bytes"))
            }
            if let min = schema["minLength"]?.int, s.count < min {
                errors.append(.invalid(shown, s, "\(shown) in body should be at least \(min) chars long"))
            }
            if let pattern = schema["pattern"]?.string, s.range(of: pattern, options: .regularExpression) == nil {
                errors.append(.invalid(shown, s, "\(shown) in body should match '\(pattern)'"))
            }
        case .int(let i):
            errors += bounds(Double(i), rendered: String(i), schema: schema, shown: shown)
        case .double(let d):
            errors += bounds(d, rendered: "\(d)", schema: schema, shown: shown)
        default: break
        }
        return errors
    }

    static func bounds(_ v: Double, rendered: String, schema: JSONObject, shown: String) -> [FieldError] {
        var errors: [FieldError] = []
        func number(_ key: String) -> Double? {
            switch schema[key] {
            case .int(let i)?: Double(i)
            case .double(let d)?: d
            default: nil
            }
        }
        if let min = number("minimum"), v < min {
            errors.append(.invalidRaw(shown, rendered, "\(shown) in body should be greater than or equal to \(schema["minimum"].map(JSONCoding.string) ?? "")"))
        }
        if let max = number("maximum"), v > max {
            errors.append(.invalidRaw(shown, rendered, "\(shown) in body should be less than or equal to \(schema["maximum"].map(JSONCoding.string) ?? "")"))
        }
        return errors
    }
}

/// Validation of CustomResourceDefinition objects themselves (`ValidateCustomResourceDefinition`), the rules a CRD
/// author meets first.
enum CRDRules {
    static func validate(_ o: JSONObject) -> [FieldError] {
        let spec = o["spec"]?.object ?? [:]
        let names = spec["names"]?.object ?? [:]
        var errors: [FieldError] = []
        let group = spec["group"]?.string ?? ""
        let plural = names["plural"]?.string ?? ""
        if group.isEmpty { errors.append(.required("spec.group")) }
        else if !group.contains(".") { errors.append(.invalid("spec.group", group, "should be a domain with at least one dot")) }
        if plural.isEmpty { errors.append(.required("spec.names.plural")) }
        if (names["kind"]?.string ?? "").isEmpty { errors.append(.required("spec.names.kind")) }
        let name = o["metadata"]?.object?["name"]?.string ?? ""
        if !group.isEmpty, !plural.isEmpty, name != "\(plural).\(group)" {
            errors.append(.invalid("metadata.name", name, "must be spec.names.plural+\".\"+spec.group"))
        }
        if let scope = spec["scope"]?.string {
            if !["Cluster", "Namespaced"].contains(scope) { errors.append(.notSupported("spec.scope", scope, ["Cluster", "Namespaced"])) }
        } else {
            errors.append(.required("spec.scope"))
        }
        let versions = (spec["versions"]?.array ?? []).compactMap(\.object)
        if versions.isEmpty { errors.append(.invalidRaw("spec.versions", "[]apiextensions.CustomResourceDefinitionVersion(nil)", "must have exactly one version marked as storage version")) }
        else if versions.filter({ $0["storage"]?.bool == true }).count != 1 {
            errors.append(.invalidRaw("spec.versions", "[]apiextensions.CustomResourceDefinitionVersion{…}", "must have exactly one version marked as storage version"))
        }
        for (i, v) in versions.enumerated() where v["schema"]?.object?["openAPIV3Schema"] == nil {
            errors.append(.required("spec.versions[\(i)].schema.openAPIV3Schema", "schemas are required"))
        }
        return errors
    }
}
