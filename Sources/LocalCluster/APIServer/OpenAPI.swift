import Kube

/// The OpenAPI v3 kubectl needs (kubernetes.md §9.7): an index at `/openapi/v3` and, per group-version, a document
/// whose PATCH operations carry `x-kubernetes-group-version-kind` and a `fieldValidation` parameter. With it, kubectl
/// sees server-side field validation, sends `fieldValidation=Strict` and skips client-side schema validation; because
/// the PATCH request bodies do not list `application/strategic-merge-patch+json`, client-side apply falls back to its
/// compiled-in types (strategic merge for built-ins, JSON merge for custom resources), as against a real server whose
/// v3 documents it cannot use.
///
/// Knowingly different: no component schemas (so `kubectl explain` does not work) and no `/openapi/v2` (404; kubectl
/// only logs that at V(5)).
enum OpenAPI {
    static func path(group: String, version: String) -> String {
        group.isEmpty ? "api/\(version)" : "apis/\(group)/\(version)"
    }

    /// `/openapi/v3`: every group-version with its document's URL (the hash changes when the document does).
    static func index(_ model: DiscoveryModel) -> JSONValue {
        var paths: JSONObject = [:]
        for g in model.groups {
            for v in g.versions {
                let p = path(group: g.name, version: v.version)
                let hash = fnv1a(JSONCoding.serialize(document(group: g.name, version: v)))
                paths[p] = ["serverRelativeURL": .string("/openapi/v3/\(p)?hash=\(hash)")]
            }
        }
        return ["paths": .object(paths)]
    }

    /// The document of one group-version: a PATCH operation per resource.
    static func document(group: String, version: DiscoveryModel.Version) -> JSONValue {
        var paths: JSONObject = [:]
        let prefix = "/" + path(group: group, version: version.version)
        for r in version.resources {
            let itemPath = r.namespaced ? "\(prefix)/namespaces/{namespace}/\(r.plural)/{name}" : "\(prefix)/\(r.plural)/{name}"
            let gvk: JSONValue = ["group": .string(group), "version": .string(version.version), "kind": .string(r.kind)]
            func query(_ name: String, _ type: String = "string") -> JSONValue {
                ["name": .string(name), "in": "query", "schema": ["type": .string(type), "uniqueItems": true]]
            }
            var parameters: [JSONValue] = [query("dryRun"), query("fieldManager"), query("fieldValidation"), query("force", "boolean")]
            parameters.append(["name": "name", "in": "path", "required": true, "schema": ["type": "string", "uniqueItems": true]])
            if r.namespaced {
                parameters.append(["name": "namespace", "in": "path", "required": true, "schema": ["type": "string", "uniqueItems": true]])
            }
            let body: JSONValue = ["schema": ["type": "object"]]
            paths[itemPath] = [
                "patch": [
                    "operationId": .string("patch\(r.kind)"),
                    "parameters": .array(parameters),
                    "requestBody": ["content": ["application/apply-patch+yaml": body, "application/json-patch+json": body,
                                                "application/merge-patch+json": body], "required": true],
                    "responses": ["200": ["description": "OK"], "201": ["description": "Created"]],
                    "x-kubernetes-action": "patch",
                    "x-kubernetes-group-version-kind": gvk,
                ],
            ]
        }
        return ["openapi": "3.0.0", "info": ["title": "Kubernetes", "version": .string(ServerVersion.gitVersion)],
                "paths": .object(paths), "components": ["schemas": [:]]]
    }

    static func fnv1a(_ bytes: [UInt8]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return String(h, radix: 16, uppercase: true)
    }
}

/// What `/version` reports: a v1.36 server (the release kubernetes.md's behaviour is read from).
enum ServerVersion {
    static let gitVersion = "v1.36.0"
    static var json: JSONValue {
        ["major": "1", "minor": "36", "emulationMajor": "1", "emulationMinor": "36", "minCompatibilityMajor": "1",
         "minCompatibilityMinor": "35", "gitVersion": .string(gitVersion),
         "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
         "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.25.0", "compiler": "gc", "platform": "linux/amd64"]
    }
}
