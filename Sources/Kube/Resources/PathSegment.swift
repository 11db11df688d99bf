/// Validation of the parts of a request path that come from users (names in `dataSourceRef`s, links, grants).
///
/// Mirrors client-go's `rest.IsValidPathSegmentName` (`k8s.io/apimachinery/pkg/api/validation/path`): a segment
/// may not be `.` or `..` and may not contain `/` or `%`; an empty segment is refused too (client-go's
/// "resource name may not be empty"). Pure, no I/O.
public enum PathSegment {
    /// Why a segment is unusable, or nil when it is fine.
    public static func problem(_ segment: String) -> String? {
        if segment.isEmpty { return "may not be empty" }
        if segment == "." || segment == ".." { return "may not be '\(segment)'" }
        if segment.contains("/") { return "may not contain '/'" }
        if segment.contains("%") { return "may not contain '%'" }
        return nil
    }

    /// - Throws: `KubeError` `.invalid` (HTTP status 0: no request was made) naming the segment and the rule.
    public static func validate(_ segment: String, as what: String, resource: String? = nil,
                                namespace: String? = nil) throws(KubeError) {
        guard let problem = problem(segment) else { return }
        throw KubeError(.invalid, "invalid \(what) \"\(segment)\": \(what) \(problem)",
                        causes: [KubeError.Cause(field: "metadata.\(what)", reason: "FieldValueInvalid",
                                                 message: "\(what) \(problem)")],
                        resource: resource, namespace: what == "namespace" ? segment : namespace,
                        name: what == "name" ? segment : nil)
    }
}
