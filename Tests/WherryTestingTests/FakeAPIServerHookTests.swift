import Testing
import WherryModel
import WherryTesting

/// The test hooks of ``FakeAPIServer``: recorded requests, injected failures, and in-flight counting.
@Suite struct FakeAPIServerHookTests {
    @Test func recordsRequestsWithQueryAndBody() async throws {
        try await FakeAPIServer.withServer { server in
            try await Curl.makeNamespace(server, "shop")
            let request = try #require(server.requests.last)
            #expect(request.method == "PATCH")
            #expect(request.path == "/api/v1/namespaces/shop")
            #expect(request.query == ["fieldManager": "wherry"])
            #expect(request.contentType == "application/apply-patch+yaml")
            #expect(request.json?["kind"] == "Namespace")
            _ = try await Curl.get(server.baseURL + "/api/v1/configmaps?labelSelector=app%20in%20(a%2Cb)")
            #expect(server.requests.last?.query["labelSelector"] == "app in (a,b)")
            server.resetRequests()
            #expect(server.requests.isEmpty)
        }
    }

    @Test func failNextAnswersInjectedFailuresForMatchingRequests() async throws {
        try await FakeAPIServer.withServer { server in
            server.failNext(2, status: 429, retryAfter: 3) { $0.method == "GET" }
            try await Curl.makeNamespace(server, "shop")
            let url = server.baseURL + "/api/v1/namespaces/shop"
            for _ in 0..<2 {
                let throttled = try await Curl.get(url)
                #expect(throttled.status == 429)
                #expect(throttled.headers["retry-after"] == "3")
                #expect(throttled.json["reason"] == "TooManyRequests")
                #expect(throttled.json["code"] == 429)
                #expect(throttled.json["details"]?["retryAfterSeconds"] == 3)
            }
            #expect(try await Curl.get(url).status == 200)

            server.failNext(1, status: 503)
            let unavailable = try await Curl.get(url)
            #expect(unavailable.status == 503)
            #expect(unavailable.json["reason"] == "ServiceUnavailable")
            #expect(unavailable.headers["retry-after"] == nil)
            #expect(try await Curl.get(url).status == 200)
        }
    }

    @Test func responseDelayMakesConcurrencyVisible() async throws {
        try await FakeAPIServer.withServer { server in
            // Wide enough for four curl processes to start and overlap on a busy machine.
            server.responseDelay = .seconds(1)
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await Curl.get(server.baseURL + "/api").status }
                }
                for try await status in group { #expect(status == 200) }
            }
            #expect(server.maxConcurrentRequests >= 2)
            #expect(server.requests.count == 4)
        }
    }
}
