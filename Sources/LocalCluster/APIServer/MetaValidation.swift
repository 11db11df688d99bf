import Foundation
import Kube

/// One field error, rendered as apimachinery's `field.Error` (`<path>: <Type>: <detail>`).
struct FieldError: Sendable {
    var field: String
    var reason: String  // FieldValueInvalid, FieldValueRequired, FieldValueForbidden, FieldValueNotSupported, FieldValueTooLong
    var message: String

    static func invalid(_ field: String, _ value: String, _ detail: String) -> FieldError {
        FieldError(field: field, reason: "FieldValueInvalid", message: "Invalid value: \(quoted(value)): \(detail)")
    }
    static func invalidRaw(_ field: String, _ rendered: String, _ detail: String) -> FieldError {
        FieldError(field: field, reason: "FieldValueInvalid", message: "Invalid value: \(rendered): \(detail)")
    }
    static func required(_ field: String, _ detail: String = "") -> FieldError {
        FieldError(field: field, reason: "FieldValueRequired", message: detail.isEmpty ? "Required value" : "Required value: \(detail)")
    }
    static func forbidden(_ field: String, _ detail: String) -> FieldError {
        FieldError(field: field, reason: "FieldValueForbidden", message: "Forbidden: \(detail)")
    }
    static func notSupported(_ field: String, _ value: String, _ supported: [String]) -> FieldError {
        FieldError(field: field, reason: "FieldValueNotSupported",
                   message: "Unsupported value: \(quoted(value)): supported values: " + supported.map(quoted).joined(separator: ", "))
    }
    static func tooLong(_ field: String, _ max: Int) -> FieldError {
        FieldError(field: field, reason: "FieldValueTooLong", message: "Too long: may not be more than \(max) bytes")
    }

    /// Go's `%q` for the ASCII strings names and labels are made of.
    static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

/// Name, label and annotation rules of apimachinery (`pkg/util/validation`, `pkg/api/validation/objectmeta.go`) with
/// their exact texts (apimachinery v0.36).
enum NameRules {
    static let subdomainRegex = #"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"#
    static let labelRegex = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
    static let qualifiedNameRegex = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
    static let labelValueRegex = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"

    static let subdomainMessage = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '\(subdomainRegex)')"
    static let labelMessage = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '\(labelRegex)')"
    static let qualifiedNameMessage = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '\(qualifiedNameRegex)')"
    static let labelValueMessage = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '\(labelValueRegex)')"

    static func matches(_ s: String, _ regex: String) -> Bool {
        s.range(of: "^(" + regex + ")$", options: .regularExpression) != nil
    }

    /// Errors of a DNS-1123 subdomain (≤ 253).
    static func subdomainErrors(_ s: String) -> [String] {
        var out: [String] = []
        if s.count > 253 { out.append("must be no more than 253 characters") }
        if !matches(s, subdomainRegex) { out.append(subdomainMessage) }
        return out
    }

    /// Errors of a DNS-1123 label (≤ 63).
    static func labelErrors(_ s: String) -> [String] {
        var out: [String] = []
        if s.count > 63 { out.append("must be no more than 63 characters") }
        if !matches(s, labelRegex) { out.append(labelMessage) }
        return out
    }

    /// Errors of a qualified name (`[prefix/]name`), as label and annotation keys and finalizers must be.
    static func qualifiedNameErrors(_ key: String) -> [String] {
        let parts = key.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        let name: String
        var out: [String] = []
        switch parts.count {
        case 1: name = parts[0]
        case 2:
            let prefix = parts[0]
            name = parts[1]
            if prefix.isEmpty { out.append("prefix part must be non-empty") }
            else { out += subdomainErrors(prefix).map { "prefix part " + $0 } }
        default:
            return ["a qualified name " + qualifiedNameMessage.dropFirst("name part ".count)
                    + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
        }
        if name.isEmpty { out.append("name part must be non-empty") }
        else if name.count > 63 { out.append("name part must be no more than 63 characters") }
        if !name.isEmpty, !matches(name, qualifiedNameRegex) { out.append(qualifiedNameMessage) }
        return out
    }

    static func labelValueErrors(_ v: String) -> [String] {
        var out: [String] = []
        if v.count > 63 { out.append("must be no more than 63 characters") }
        if !matches(v, labelValueRegex) { out.append(labelValueMessage) }
        return out
    }
}

/// `ValidateObjectMeta` for create and `ValidateObjectMetaUpdate` for updates.
enum MetaValidation {
    static let maxAnnotationsBytes = 256 * 1024

    /// Names are DNS-1123 labels for namespaces, subdomains for everything else the server stores.
    static func nameErrors(_ name: String, type: ResourceType) -> [FieldError] {
        let errors = type == Namespace.resourceType ? NameRules.labelErrors(name) : NameRules.subdomainErrors(name)
        return errors.map { FieldError.invalid("metadata.name", name, $0) }
    }

    static func validate(_ meta: JSONObject, type: ResourceType) -> [FieldError] {
        var errors: [FieldError] = []
        for (k, v) in meta["labels"]?.object ?? [:] {
            errors += NameRules.qualifiedNameErrors(k).map { FieldError.invalid("metadata.labels", k, $0) }
            let value = v.string ?? ""
            errors += NameRules.labelValueErrors(value).map { FieldError.invalid("metadata.labels", value, $0) }
        }
        var annotationBytes = 0
        for (k, v) in meta["annotations"]?.object ?? [:] {
            errors += NameRules.qualifiedNameErrors(k.lowercased()).map { FieldError.invalid("metadata.annotations", k, $0) }
            annotationBytes += k.utf8.count + (v.string?.utf8.count ?? 0)
        }
        if annotationBytes > maxAnnotationsBytes {
            errors.append(FieldError(field: "metadata.annotations", reason: "FieldValueTooLong",
                                     message: "Too long: may not be more than \(maxAnnotationsBytes) bytes"))
        }
        for f in (meta["finalizers"]?.array ?? []).compactMap(\.string) {
            errors += NameRules.qualifiedNameErrors(f).map { FieldError.invalid("metadata.finalizers", f, $0) }
        }
        var controllers: [String] = []
        for ref in (meta["ownerReferences"]?.array ?? []).compactMap(\.object) {
            for (field, what) in [("apiVersion", "version"), ("kind", "kind"), ("name", "name"), ("uid", "uid")]
            where (ref[field]?.string ?? "").isEmpty {
                errors.append(.invalid("metadata.ownerReferences.\(field)", "", "\(what) must not be empty"))
            }
            if ref["kind"]?.string == "Event", (ref["apiVersion"]?.string ?? "").hasSuffix("v1") {
                errors.append(.invalid("metadata.ownerReferences", ref["kind"]?.string ?? "", "is disallowed from being an owner"))
            }
            if ref["controller"]?.bool == true { controllers.append(ref["name"]?.string ?? "") }
        }
        if controllers.count > 1 {
            errors.append(.invalidRaw("metadata.ownerReferences", "[]v1.OwnerReference{…}",
                                      "Only one reference can have Controller set to true. Found \"true\" in references for "
                                      + controllers.joined(separator: " and ")))
        }
        return errors
    }

    /// `generateName`: the base cut to 58 characters plus 5 random characters (apiserver `names.SimpleNameGenerator`).
    static func generatedName(_ base: String) -> String {
        let chars = Array("bcdfghjklmnpqrstvwxz2456789")
        return String(base.prefix(58)) + String((0..<5).map { _ in chars.randomElement() ?? "x" })
    }
}
