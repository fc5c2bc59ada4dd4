/// Everything needed to reach one API server: where, how to trust it, and who we are.
public struct KubeConnection: Sendable {
    /// How requests are authenticated.
    public enum Credentials: Sendable {
        case none
        /// A bearer token.
        case bearer(String)
        /// A bearer token read from a file before each use (service-account tokens rotate).
        case bearerFile(String)
        /// HTTP basic authentication.
        case basic(username: String, password: String)
    }

    /// Base URL, e.g. `https://10.0.0.1:6443`, without a trailing slash.
    public var server: String
    /// PEM of the certificate authorities to trust; the system's when `nil`.
    public var certificateAuthorityPEM: String?
    /// PEM of the client certificate chain, for mutual TLS.
    public var clientCertificatePEM: String?
    /// PEM of the client key.
    public var clientKeyPEM: String?
    /// Skip server certificate verification (kubeconfig's `insecure-skip-tls-verify`).
    public var insecureSkipTLSVerify: Bool
    /// Name to verify the server certificate against, when it differs from the URL's host.
    public var tlsServerName: String?
    public var credentials: Credentials

    public init(
        server: String, certificateAuthorityPEM: String? = nil, clientCertificatePEM: String? = nil,
        clientKeyPEM: String? = nil, insecureSkipTLSVerify: Bool = false, tlsServerName: String? = nil,
        credentials: Credentials = .none
    ) {
        var server = server
        while server.hasSuffix("/") { server.removeLast() }
        self.server = server
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.tlsServerName = tlsServerName
        self.credentials = credentials
    }
}

extension KubeConnection: CustomStringConvertible {
    public var description: String { "KubeConnection(\(server), credentials: ***)" }
}

/// Client behaviour: throttling, retries, timeouts, connections.
public struct KubeClientOptions: Sendable {
    /// Sustained requests per second; 0 (the default) disables the limiter: modern API servers pace clients with
    /// priority and fairness (429 and `Retry-After`, honoured here), and ``maxConnections`` bounds what is in flight.
    public var qps: Double
    /// Requests allowed at once.
    public var burst: Int
    /// Retries of one request on 429, 5xx and lost connections (never on other 4xx).
    public var maxRetries: Int
    /// First retry delay; doubles per retry, capped at 5 s, with jitter.
    public var retryBaseDelay: Duration
    /// Limit for one request, from sending to the last byte of the answer.
    public var requestTimeout: Duration
    /// Limit for opening a connection (TCP connect, and the TLS handshake after it). A timed-out connection is not
    /// retried: a server that does not answer is said at once, as a timeout.
    public var connectTimeout: Duration
    /// Told `true` when the client's first request has had no answer for ``slowFirstContactAfter`` (a terminal
    /// shows that it is waiting), then `false` when that request ends, whatever its outcome.
    public var onSlowFirstContact: (@Sendable (_ waiting: Bool) -> Void)?
    /// How long the first request may take before ``onSlowFirstContact`` is told.
    public var slowFirstContactAfter: Duration = .seconds(2)
    /// Connections kept open to the API server.
    public var maxConnections: Int
    /// Told of every request attempt (retries included) with its method, and whether it is a dry run: the
    /// executable counts them as `wherry_kube_requests_total`.
    public var onRequest: (@Sendable (_ method: String, _ dryRun: Bool) -> Void)?

    public init(
        qps: Double = 0, burst: Int = 200, maxRetries: Int = 4, retryBaseDelay: Duration = .milliseconds(200),
        requestTimeout: Duration = .seconds(60), connectTimeout: Duration = .seconds(10), maxConnections: Int = 32,
        onRequest: (@Sendable (_ method: String, _ dryRun: Bool) -> Void)? = nil
    ) {
        self.onRequest = onRequest
        self.qps = qps
        self.burst = burst
        self.maxRetries = maxRetries
        self.retryBaseDelay = retryBaseDelay
        self.requestTimeout = requestTimeout
        self.connectTimeout = connectTimeout
        self.maxConnections = maxConnections
    }
}
