public import CoreMetrics
import Foundation
import WherryModel

/// The controller's metrics, on an explicit factory (the executable passes a Prometheus one; tests their own):
/// `wherry_reconcile_duration_seconds`, `wherry_reconcile_total{service,result}`,
/// `wherry_applied_objects_total{action}` (prunes as `deleted` and `kept`), `wherry_git_poll_failures_total{repo}`,
/// `wherry_drift_corrections_total{service}` and
/// `wherry_last_success_timestamp_seconds{service}`. Label values come from the config and fixed sets only.
public struct ControllerMetrics: Sendable {
    private let factory: any MetricsFactory

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    /// Counts one reconcile: `result` is `succeeded`, `unchanged` (nothing to apply) or `failed`.
    func reconciled(service: String, result: String, duration: Duration, changes: [ApplyAction: Int]) {
        CoreMetrics.Timer(label: "wherry_reconcile_duration_seconds", factory: factory)
            .recordNanoseconds(duration.inNanoseconds)
        Counter(
            label: "wherry_reconcile_total", dimensions: [("service", service), ("result", result)], factory: factory
        )
        .increment()
        for (action, count) in changes where count > 0 {
            Counter(label: "wherry_applied_objects_total", dimensions: [("action", action.rawValue)], factory: factory)
                .increment(by: count)
        }
        if result != "failed" {
            Gauge(label: "wherry_last_success_timestamp_seconds", dimensions: [("service", service)], factory: factory)
                .record(Date().timeIntervalSince1970)
        }
    }

    /// Counts objects a drift check found changed or missing and put back.
    func driftCorrected(service: String, objects: Int) {
        Counter(label: "wherry_drift_corrections_total", dimensions: [("service", service)], factory: factory)
            .increment(by: objects)
    }

    /// Counts a poll of a repository that failed.
    func pollFailed(repository: String) {
        Counter(label: "wherry_git_poll_failures_total", dimensions: [("repo", repository)], factory: factory)
            .increment()
    }
}
