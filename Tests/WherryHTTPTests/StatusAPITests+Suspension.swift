import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import WherryController
import WherryGit
import WherryHTTP
import WherryKube
import WherryModel
import WherryTesting

@Suite("The controller's HTTP API: suspend and resume")
struct StatusAPISuspensionTests {
    @Test("suspend/resume need the token; suspended: shown, skipped by the webhook, manual sync 409; config wins")
    func suspension() async throws {
        try await FakeAPIServer.withServer { server in
            let cache = try TemporaryDirectory(prefix: "cache")
            defer { cache.remove() }
            let config = try ConfigLoader.parse(
                StatusAPITests.config, file: "gitops-config.yaml", baseDirectory: "/"
            ).config
            var quiet = Logger(label: "test")
            quiet.logLevel = .critical
            let api = try HTTPKubeAPI(connection: KubeConnection(server: server.baseURL), logger: quiet)
            let store = InMemoryStatusStore()
            let syncer = ServiceSyncer(
                renderer: ServiceRenderer(git: GitCLISource(cacheDirectory: cache.path)),
                manager: ResourceManager(api: api, logger: quiet), logger: quiet)
            let loop = ReconcileLoop(
                config: config, reconciler: Reconciler(syncer: syncer, store: store, logger: quiet), logger: quiet)
            let app = Application(
                router: StatusAPI(
                    config: config, store: store, loop: loop, apiToken: "s3cret-token", webhookSecret: "hook-secret"
                ).router())
            let token: HTTPFields = [.authorization: "Bearer s3cret-token"]
            do {
                try await app.test(.router) { client in
                    try await client.execute(uri: "/v1/gitops/services/etcd/suspend", method: .post) { response in
                        #expect(response.status == .unauthorized)
                    }
                    try await client.execute(uri: "/v1/gitops/services/nope/suspend", method: .post, headers: token) {
                        #expect($0.status == .notFound)
                    }
                    try await client.execute(uri: "/v1/gitops/services/etcd/suspend", method: .post, headers: token) {
                        response in
                        #expect(response.status == .ok)
                        let answer = try StatusAPITests.json(response)
                        #expect(answer["suspended_by"] == "api")
                        #expect(answer["changed"] == true)
                    }
                    #expect(try await store.suspensions()["etcd"] != nil)
                    try await client.execute(uri: "/v1/gitops/services/etcd", method: .get) { response in
                        let answer = try StatusAPITests.json(response)
                        #expect(answer["state"] == "suspended")
                        #expect(answer["suspended_by"] == "api")
                    }
                    // The webhook starts the other service of the repository only.
                    let body = StatusAPITests.push(cloneURL: "https://github.com/ai-infra-team/nokube.git")
                    try await client.execute(
                        uri: "/v1/gitops/webhook/github", method: .post, headers: StatusAPITests.signed(body),
                        body: ByteBuffer(string: body)
                    ) { response in
                        let answer = try StatusAPITests.json(response)
                        #expect(answer["services"] == ["monitoring"])
                    }
                    try await client.execute(uri: "/v1/gitops/services/etcd/sync", method: .post, headers: token) {
                        response in
                        #expect(response.status == .conflict)
                        #expect(String(buffer: response.body).contains("wherry resume etcd"))
                    }
                    try await client.execute(uri: "/v1/gitops/services/web/resume", method: .post, headers: token) {
                        response in
                        #expect(response.status == .conflict)
                        #expect(String(buffer: response.body).contains("suspend: true"))
                    }
                    try await client.execute(uri: "/v1/gitops/services/etcd/resume", method: .post, headers: token) {
                        response in
                        #expect(response.status == .ok)
                        let answer = try StatusAPITests.json(response)
                        #expect(answer["changed"] == true)
                    }
                    #expect(try await store.suspensions().isEmpty)
                    #expect(!loop.isSuspended("etcd"))
                }
            } catch {
                await api.shutdown()
                throw error
            }
            await api.shutdown()
        }
    }
}
