import Foundation
public import WherryModel

/// Fields of some objects that other controllers own (`ignore_differences`, as Argo CD's): Wherry neither sets
/// nor corrects them on existing objects, e.g. `/spec/replicas` of a Deployment scaled by an autoscaler.
public struct IgnoreRule: Sendable, Hashable {
    /// API group of the objects (`apps`); any group when `nil`.
    public var group: String?
    public var kind: String
    /// Only the object with this name, when set.
    public var name: String?
    /// Only objects in this namespace, when set.
    public var namespace: String?
    /// RFC 6901 JSON pointers, e.g. `/spec/replicas`.
    public var jsonPointers: [String]

    public init(
        group: String? = nil, kind: String, name: String? = nil, namespace: String? = nil, jsonPointers: [String]
    ) {
        self.group = group
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.jsonPointers = jsonPointers
    }

    /// Whether the rule covers an object.
    public func matches(_ ref: ObjectRef) -> Bool {
        ref.kind == kind && (group.map { $0 == ref.group } ?? true) && (name.map { $0 == ref.name } ?? true)
            && (namespace.map { $0 == ref.namespace } ?? true)
    }
}

/// How a service's failed reconciles are retried (`retry: {limit, backoff: {duration, factor, max_duration}}`,
/// the shape of Argo CD's sync retry).
public struct RetryPolicy: Sendable, Hashable {
    /// Retries after a failure before waiting for a new commit or trigger; `nil`: no limit.
    public var limit: Int?
    /// First delay, in seconds.
    public var duration: Double
    /// Each further delay is the previous one times this.
    public var factor: Double
    /// Longest delay, in seconds.
    public var maxDuration: Double

    public init(
        limit: Int? = nil, duration: Double = ServiceSchedule.baseDelay, factor: Double = 2,
        maxDuration: Double = ServiceSchedule.maxDelay
    ) {
        self.limit = limit
        self.duration = duration
        self.factor = factor
        self.maxDuration = maxDuration
    }

    /// The loop's own policy: 5 s, doubling, at most 5 minutes, no limit.
    public static let standard = RetryPolicy()
    /// No retry at the same commit: for a commit whose signature was refused, which only a new commit (or a manual
    /// sync, a webhook) can change.
    public static let untilNewCommit = RetryPolicy(limit: 0)

    /// The delay before retry number `failures` (1 for the first), before jitter, in seconds.
    public func delay(failures: Int) -> Double {
        backoff.delay(attempt: failures).inSeconds
    }

    /// The policy's delays as the ``Backoff`` every retry in Wherry follows.
    public var backoff: Backoff {
        Backoff(
            initial: .milliseconds(Int64(duration * 1000)), factor: factor,
            maximum: .milliseconds(Int64(maxDuration * 1000)))
    }

    /// Whether another retry is allowed after `failures` failures in a row.
    public func allowsRetry(after failures: Int) -> Bool {
        limit.map { failures <= $0 } ?? true
    }
}

extension ServiceConfig {
    /// The settings besides Git that change what is applied, as stable text (empty when none is set): part of the
    /// tree id a service is compared by, so changing them applies the service again.
    public var renderSettings: String {
        var lines: [String] = []
        if let namespace { lines.append("namespace \(namespace)") }
        if createNamespace { lines.append("create_namespace") }
        if let mutation = statelessMutation {
            lines.append(
                "stateless \(mutation.downloadBaseURL) \(mutation.image) \(mutation.command.rawValue) \(mutation.attempts)"
            )
        }
        for rule in ignoreDifferences {
            lines.append(
                "ignore \(rule.group ?? "*") \(rule.kind) \(rule.namespace ?? "*") \(rule.name ?? "*") "
                    + rule.jsonPointers.joined(separator: ","))
        }
        return lines.map { $0 + "\n" }.joined()
    }
}
