import Foundation
import Synchronization

/// Prometheus metrics of the controllers, rendered in the text exposition format (`/metrics`).
///
/// Names: `ferry_operations_total{kind,outcome}`, `ferry_operation_duration_seconds{kind,outcome}` (histogram),
/// `ferry_grant_denials_total{reason}`, `ferry_operations_in_flight`, `ferry_workqueue_depth{queue}`, `ferry_workqueue_adds_total{queue,cause}`, `ferry_informer_events_filtered_total{kind}`, and KEP-3294's
/// proposed `cross_namespace_persistentvolumeclaim_provision_total` / `…_failed_total`.
public final class ControllerMetrics: Sendable {
    struct Series: Hashable { var name: String; var labels: [String: String] }
    struct Histogram { var buckets: [Int]; var sum: Double; var count: Int }
    struct State {
        var counters: [Series: Double] = [:]
        var gauges: [Series: Double] = [:]
        var histograms: [Series: Histogram] = [:]
    }
    static let bounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
    static let help: [String: (String, String)] = [
        "ferry_operations_total": ("counter", "Reconcile operations by kind and outcome."),
        "ferry_operation_duration_seconds": ("histogram", "Reconcile duration by kind and outcome."),
        "ferry_grant_denials_total": ("counter", "References denied by the ReferenceGrant rule or the feature gate."),
        "ferry_operations_in_flight": ("gauge", "Reconciles running now."),
        "ferry_workqueue_depth": ("gauge", "Keys waiting in each work queue."),
        "ferry_informer_events_filtered_total": ("counter", "Informer updates that changed nothing a reconcile reads (WakeFilter), by kind: they woke no reconcile."),
        "ferry_workqueue_adds_total": ("counter", "Keys handed to a work queue by queue and cause (informer event or runtime step), before de-duplication."),
        "ferry_volumes_provisioned_total": ("counter", "Volumes Ferry created through CSI CreateVolume."),
        "cross_namespace_persistentvolumeclaim_provision_total": ("counter", "Cross-namespace provisionings that succeeded (KEP-3294)."),
        "cross_namespace_persistentvolumeclaim_provision_failed_total": ("counter", "Cross-namespace provisioning attempts that failed (KEP-3294)."),
        "ferry_leader": ("gauge", "1 while this replica holds the lease."),
        "ferry_kopiasnapshot_reconciles_total": ("counter", "Owner-side KopiaSnapshot resolutions (status kept current, repository kept open)."),
        "ferry_kopia_repositories_open": ("gauge", "Kopia repositories the controller holds open (bounded, least recently used closed first)."),
        "ferry_kopia_repository_opens_total": ("counter", "Kopia repository opens (each a password key derivation and an index load)."),
        "ferry_kopia_repository_refreshes_total": ("counter", "Index refreshes of open Kopia repositories (a listing when nothing changed)."),
        "ferry_kopia_repository_evictions_total": ("counter", "Open Kopia repositories closed (idle, over the bounds, Secret changed, KopiaSnapshot gone)."),
    ]
    private let state = Mutex(State())

    public init() {}

    public func increment(_ name: String, _ labels: [String: String] = [:], by value: Double = 1) {
        state.withLock { $0.counters[Series(name: name, labels: labels), default: 0] += value }
    }
    public func set(_ name: String, _ labels: [String: String] = [:], to value: Double) {
        state.withLock { $0.gauges[Series(name: name, labels: labels)] = value }
    }
    public func add(_ name: String, _ labels: [String: String] = [:], _ delta: Double) {
        state.withLock { $0.gauges[Series(name: name, labels: labels), default: 0] += delta }
    }
    public func observe(_ name: String, _ labels: [String: String] = [:], seconds: Double) {
        state.withLock { s in
            var h = s.histograms[Series(name: name, labels: labels)] ?? Histogram(buckets: Array(repeating: 0, count: Self.bounds.count), sum: 0, count: 0)
            for (i, b) in Self.bounds.enumerated() where seconds <= b { h.buckets[i] += 1 }
            h.sum += seconds
            h.count += 1
            s.histograms[Series(name: name, labels: labels)] = h
        }
    }

    public func counter(_ name: String, _ labels: [String: String] = [:]) -> Double {
        state.withLock { $0.counters[Series(name: name, labels: labels)] ?? 0 }
    }

    /// The text exposition format (version 0.0.4).
    public func render() -> String {
        let s = state.withLock { $0 }
        var families: [String: [String]] = [:]
        func labelText(_ l: [String: String], extra: (String, String)? = nil) -> String {
            var pairs = l.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            if let extra { pairs.append(extra) }
            guard !pairs.isEmpty else { return "" }
            return "{" + pairs.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
        }
        for (series, v) in s.counters { families[series.name, default: []].append("\(series.name)\(labelText(series.labels)) \(format(v))") }
        for (series, v) in s.gauges { families[series.name, default: []].append("\(series.name)\(labelText(series.labels)) \(format(v))") }
        for (series, h) in s.histograms {
            var lines: [String] = []
            for (i, b) in Self.bounds.enumerated() {
                lines.append("\(series.name)_bucket\(labelText(series.labels, extra: ("le", format(b)))) \(h.buckets[i])")
            }
            lines.append("\(series.name)_bucket\(labelText(series.labels, extra: ("le", "+Inf"))) \(h.count)")
            lines.append("\(series.name)_sum\(labelText(series.labels)) \(format(h.sum))")
            lines.append("\(series.name)_count\(labelText(series.labels)) \(h.count)")
            families[series.name, default: []].append(contentsOf: lines)
        }
        var out = ""
        for name in families.keys.sorted() {
            if let (type, help) = Self.help[name] { out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n" }
            out += (families[name] ?? []).sorted().joined(separator: "\n") + "\n"
        }
        return out
    }

    private func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }
    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
