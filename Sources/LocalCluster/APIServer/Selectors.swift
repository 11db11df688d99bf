import Kube
import LocalHTTPS

/// Label selector grammar of the API (`a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`).
struct LabelSelector {
    enum Term { case eq(String, String), ne(String, String), isIn(String, Set<String>), notIn(String, Set<String>),
                     exists(String), absent(String) }
    let terms: [Term]

    init(_ text: String) throws(APIFailure) {
        var parts: [String] = []
        var depth = 0
        var current = ""
        for ch in text {
            if ch == "(" { depth += 1 } else if ch == ")" { depth -= 1 }
            if ch == ",", depth == 0 { parts.append(current); current = "" } else { current.append(ch) }
        }
        if !current.isEmpty { parts.append(current) }
        var terms: [Term] = []
        for raw in parts {
            let p = raw.trimmingCharacters(in: .whitespaces)
            if p.isEmpty { continue }
            let words = p.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            if words.count >= 3, words[1] == "in" || words[1] == "notin" {
                let list = words[2...].joined(separator: " ").trimmingCharacters(in: CharacterSet(charactersIn: "() "))
                let values = Set(list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                terms.append(words[1] == "in" ? .isIn(words[0], values) : .notIn(words[0], values))
            } else if let r = p.range(of: "!=") {
                terms.append(.ne(String(p[..<r.lowerBound]).trimmed, String(p[r.upperBound...]).trimmed))
            } else if let r = p.range(of: "==") ?? p.range(of: "=") {
                terms.append(.eq(String(p[..<r.lowerBound]).trimmed, String(p[r.upperBound...]).trimmed))
            } else if p.hasPrefix("!") {
                terms.append(.absent(String(p.dropFirst()).trimmed))
            } else if p.allSatisfy({ $0.isLetter || $0.isNumber || "-_./".contains($0) }) {
                terms.append(.exists(p))
            } else {
                throw APIFailure.badRequest("unable to parse requirement: \(p)")
            }
        }
        self.terms = terms
    }

    func matches(_ labels: [String: String]) -> Bool {
        terms.allSatisfy { t in
            switch t {
            case .eq(let k, let v): labels[k] == v
            case .ne(let k, let v): labels[k] != v
            case .isIn(let k, let vs): labels[k].map(vs.contains) ?? false
            case .notIn(let k, let vs): !(labels[k].map(vs.contains) ?? false)
            case .exists(let k): labels[k] != nil
            case .absent(let k): labels[k] == nil
            }
        }
    }
}

/// Field selectors: `path=value`, `path==value`, `path!=value`, only on the fields the API supports for the kind.
struct FieldSelector {
    let terms: [(path: String, value: String, equal: Bool)]

    static func supported(_ type: ResourceType) -> Set<String> {
        var s: Set<String> = ["metadata.name", "metadata.namespace"]
        switch (type.group, type.plural) {
        case ("", "events"):
            s.formUnion(["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                         "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
                         "reason", "reportingComponent", "source", "type"])
        case ("", "pods"): s.formUnion(["spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                                         "spec.serviceAccountName", "status.phase", "status.podIP", "status.nominatedNodeName"])
        case ("", "secrets"): s.insert("type")
        case ("", "namespaces"): s.insert("status.phase")
        case ("", "persistentvolumes"): s.insert("spec.storageClassName")  // not in upstream; harmless superset
        default: break
        }
        return s
    }

    init(_ text: String, type: ResourceType) throws(APIFailure) {
        var terms: [(String, String, Bool)] = []
        let allowed = Self.supported(type)
        for raw in text.split(separator: ",") {
            let p = String(raw)
            let (path, value, equal): (String, String, Bool)
            if let r = p.range(of: "!=") { (path, value, equal) = (String(p[..<r.lowerBound]), String(p[r.upperBound...]), false) }
            else if let r = p.range(of: "==") ?? p.range(of: "=") {
                (path, value, equal) = (String(p[..<r.lowerBound]), String(p[r.upperBound...]), true)
            } else { throw APIFailure.badRequest("invalid selector: '\(p)'; can't understand '\(p)'") }
            guard allowed.contains(path) else {
                throw APIFailure.badRequest("field label not supported: \(path)")
            }
            terms.append((path, value, equal))
        }
        self.terms = terms
    }

    func matches(_ object: JSONObject) -> Bool {
        terms.allSatisfy { t in
            let v: String
            if t.path == "source" { v = JSONValue.object(object).value(at: "source.component")?.string ?? "" }
            else {
                switch JSONValue.object(object).value(at: t.path) {
                case .string(let s): v = s
                case .int(let i): v = String(i)
                case .bool(let b): v = String(b)
                default: v = ""
                }
            }
            return (v == t.value) == t.equal
        }
    }
}

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespaces) }
}

import Foundation

extension LocalHTTPRequest {
    /// A boolean query parameter as Go's `strconv.ParseBool` reads it (`1`, `t`, `T`, `TRUE`, `true`, `True`).
    func boolQuery(_ name: String) -> Bool {
        ["1", "t", "T", "TRUE", "true", "True"].contains(queryValue(name) ?? "")
    }
}
