import E2ETestSupport
import CurlHTTP
import Foundation
import Kube
import LocalCluster
import Testing

/// CustomResourceDefinitions applied with kubectl: discovery, CRUD and watch, the status subresource, and
/// openAPIV3Schema validation (required, types, enums, pruning or strict rejection of unknown fields).
@Suite(.serialized) struct CustomResourceTests {
    static let crd = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: widgets.example.com}
        spec:
          group: example.com
          scope: Namespaced
          names: {kind: Widget, plural: widgets, singular: widget, shortNames: [wd], listKind: WidgetList}
          versions:
          - name: v1
            served: true
            storage: true
            subresources: {status: {}}
            additionalPrinterColumns:
            - {name: Mode, type: string, jsonPath: .spec.mode}
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec:
                    type: object
                    required: [size]
                    properties:
                      size: {type: integer, minimum: 1}
                      mode: {type: string, enum: [Fast, Slow]}
                      extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
                  status:
                    type: object
                    properties:
                      ready: {type: boolean}
        """

    static func widget(_ name: String, _ spec: String) -> String {
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: \(name), namespace: crd-test}\nspec: \(spec)\n"
    }

    @Test func appliedCRDServesValidatedResourcesWithStatus() async throws {
        let cluster = try await SharedCluster.get()
        let kubectl = Kubectl(cluster)
        #expect(try await kubectl("create", "namespace", "crd-test").ok)
        let applied = try await kubectl("apply", "-f", "-", input: Self.crd)
        #expect(applied.stdout.contains("customresourcedefinition.apiextensions.k8s.io/widgets.example.com created"), "\(applied.stderr)")
        let established = try await kubectl("wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=10s")
        #expect(established.ok, "\(established.stderr)")
        let resources = try await kubectl("api-resources", "--api-group=example.com", "-o", "name")
        #expect(resources.stdout.contains("widgets.example.com"), "\(resources.stdout)\(resources.stderr)")

        let good = try await kubectl("apply", "-f", "-", input: Self.widget("w1", "{size: 3, mode: Fast, extra: {anything: [1, 2]}}"))
        #expect(good.stdout.contains("widget.example.com/w1 created"), "\(good.stderr)")
        let badEnum = try await kubectl("apply", "-f", "-", input: Self.widget("w2", "{size: 3, mode: Medium}"))
        #expect(badEnum.stderr.contains("spec.mode: Unsupported value: \"Medium\": supported values: \"Fast\", \"Slow\""), "\(badEnum.stderr)")
        let missing = try await kubectl("apply", "-f", "-", input: Self.widget("w3", "{mode: Slow}"))
        #expect(missing.stderr.contains("spec.size: Required value"), "\(missing.stderr)")
        let wrongType = try await kubectl("apply", "-f", "-", input: Self.widget("w4", "{size: many}"))
        #expect(wrongType.stderr.contains("spec.size: Invalid value: \"string\": spec.size in body must be of type integer: \"string\""), "\(wrongType.stderr)")
        let unknown = try await kubectl("apply", "-f", "-", input: Self.widget("w5", "{size: 1, colour: red}"))
        #expect(unknown.stderr.contains("unknown field \"spec.colour\""), "kubectl asks for strict validation: \(unknown.stderr)")

        // Without strict validation (the Kube client's default), unknown fields are pruned; preserved ones stay.
        let client = try cluster.makeClient()
        let widgetType = ResourceType(group: "example.com", version: "v1", kind: "Widget", plural: "widgets",
                                      namespaced: true, hasStatusSubresource: true)
        _ = try await client.createRaw(widgetType, namespace: "crd-test",
                                       ["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "w6"],
                                        "spec": ["size": 2, "colour": "red", "extra": ["free": "form"]]])
        let stored = try await client.getRaw(widgetType, namespace: "crd-test", name: "w6")
        #expect(stored.value(at: "spec.colour") == nil)
        #expect(stored.value(at: "spec.extra.free")?.string == "form")

        // Status subresource: the main resource ignores status, /status takes only status.
        let statusSet = try await kubectl("patch", "widget", "w1", "-n", "crd-test", "--subresource=status", "--type=merge",
                                    "-p", #"{"status":{"ready":true},"spec":{"size":99}}"#)
        #expect(statusSet.ok, "\(statusSet.stderr)")
        let ignored = try await kubectl("patch", "widget", "w1", "-n", "crd-test", "--type=merge", "-p", #"{"status":{"ready":false}}"#)
        #expect(ignored.ok, "\(ignored.stderr)")
        let w1 = try await kubectl("get", "widget", "w1", "-n", "crd-test", "-o", "jsonpath={.status.ready} {.spec.size} {.metadata.generation}")
        #expect(w1.stdout == "true 3 1", "\(w1.stdout)")
        let table = try await kubectl("get", "wd", "-n", "crd-test")
        #expect(table.stdout.contains("w1"), "\(table.stdout)\(table.stderr)")
        try await SharedCluster.dumpForSweep()
    }
}

extension KubeClient {
    /// Raw JSON create/get for kinds without a Swift type (the test's CRD).
    func createRaw(_ t: ResourceType, namespace: String?, _ body: JSONObject) async throws -> JSONValue {
        try await raw(.post, path: t.path(namespace: namespace), body: .object(body))
    }
    func getRaw(_ t: ResourceType, namespace: String?, name: String) async throws -> JSONValue {
        try await raw(.get, path: t.path(namespace: namespace, name: name))
    }
}
