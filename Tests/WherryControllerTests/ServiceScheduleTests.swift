import Testing
import WherryController

@Suite("The loop's per-service schedule")
struct ServiceScheduleTests {
    @Test("backoff doubles from 5 s and stops at 5 min")
    func backoff() {
        #expect((1...8).map { RetryPolicy.standard.delay(failures: $0) } == [5, 10, 20, 40, 80, 160, 300, 300])
    }

    @Test("triggers while running coalesce into one pending run, the strongest")
    func coalescing() {
        var schedule = ServiceSchedule()
        let step1 = schedule.request(.poll, now: 0)
        #expect(step1)
        let step2 = schedule.request(.poll, now: 1)
        #expect(!step2)
        let step3 = schedule.request(.webhook, now: 1)
        #expect(!step3)
        let step4 = schedule.request(.poll, now: 2)
        #expect(!step4)
        #expect(schedule.pending == .webhook)
        let step5 = schedule.finished(succeeded: true, now: 3)
        #expect(step5 == .webhook)
        #expect(schedule.running)
        let step6 = schedule.finished(succeeded: true, now: 4)
        #expect(step6 == nil)
        #expect(!schedule.running)
    }

    @Test("a failure backs off: polls of the same commit wait, a new commit or a webhook run at once")
    func failureBacksOff() {
        var schedule = ServiceSchedule()
        let step7 = schedule.request(.poll, now: 0)
        #expect(step7)
        let step8 = schedule.finished(succeeded: false, now: 10)
        #expect(step8 == nil)
        #expect(schedule.retryAt == 15)
        let step9 = schedule.request(.poll, now: 12)
        #expect(!step9)
        let step10 = schedule.request(.retry, now: 14)
        #expect(!step10)
        let step11 = schedule.request(.retry, now: 15)
        #expect(step11)
        let step12 = schedule.finished(succeeded: false, now: 16)
        #expect(step12 == nil)
        #expect(schedule.retryAt == 26)
        let step13 = schedule.request(.poll, newCommit: true, now: 17)
        #expect(step13)
        let step14 = schedule.finished(succeeded: false, now: 18)
        #expect(step14 == nil)
        #expect(schedule.failures == 3)
        let step15 = schedule.request(.webhook, now: 19)
        #expect(step15)
        let step16 = schedule.finished(succeeded: true, now: 20)
        #expect(step16 == nil)
        #expect(schedule.failures == 0)
        #expect(schedule.retryAt == nil)
    }

    @Test("a poll that saw a new commit while the run failed runs at once; one of the same commit waits")
    func newCommitDuringFailingRun() {
        var schedule = ServiceSchedule()
        _ = schedule.request(.poll, now: 0)
        _ = schedule.request(.poll, newCommit: false, now: 1)
        #expect(schedule.finished(succeeded: false, now: 2) == nil)
        _ = schedule.request(.poll, newCommit: true, now: 20)
        _ = schedule.request(.poll, newCommit: true, now: 21)
        #expect(schedule.finished(succeeded: false, now: 22) == .poll)
        #expect(schedule.running)
    }

    @Test("jitter moves a retry by at most a tenth")
    func jitter() {
        var schedule = ServiceSchedule()
        _ = schedule.request(.poll, now: 0)
        _ = schedule.finished(succeeded: false, now: 0, jitter: 0.1)
        #expect(schedule.retryAt == 5.5)
    }

    @Test("a cancelled run leaves failures and backoff as they were")
    func cancelled() {
        var schedule = ServiceSchedule()
        _ = schedule.request(.poll, now: 0)
        _ = schedule.finished(succeeded: false, now: 0)
        _ = schedule.request(.manual, now: 1)
        let step17 = schedule.finished(succeeded: nil, now: 2)
        #expect(step17 == nil)
        #expect(schedule.failures == 1)
        #expect(schedule.retryAt == 5)
    }

    @Test("a service's retry policy sets the delays; past its limit only a new commit or a trigger runs it")
    func retryLimit() {
        var schedule = ServiceSchedule()
        let policy = RetryPolicy(limit: 1, duration: 10, factor: 3, maxDuration: 60)
        _ = schedule.request(.poll, now: 0)
        _ = schedule.finished(succeeded: false, now: 0, policy: policy)
        #expect(schedule.retryAt == 10)
        let retried = schedule.request(.retry, now: 10)
        #expect(retried)
        _ = schedule.finished(succeeded: false, now: 10, policy: policy)
        #expect(schedule.retryAt == .infinity)
        let again = schedule.request(.retry, now: 1000)
        #expect(!again)
        let unchangedPoll = schedule.request(.poll, newCommit: false, now: 1000)
        #expect(!unchangedPoll)
        let newCommit = schedule.request(.poll, newCommit: true, now: 1000)
        #expect(newCommit)
    }
}
