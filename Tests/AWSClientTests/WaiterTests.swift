import AWSClient
import AWSJSON
import AWSModels
import Testing
import TestSupport

/// botocore 1.44.5's `Waiter.wait` on scripted answers, for every waiter of the models
/// (`scripts/waiter_reference.py`).
let waiterReference = PythonReference.run("waiter_reference.py")
let waiterReferenceAvailable: Bool = (try? waiterReference.get()) != nil

@Suite("Waiters against botocore's waiter.py",
       .enabled(if: waiterReferenceAvailable || PythonReference.required,
                "python3 cannot run scripts/waiter_reference.py (needs jmespath and scripts/setup.sh's botocore): the comparison with botocore is skipped"))
struct WaiterReferenceTests {
    static func answer(_ json: JSON) -> WaiterAnswer {
        let status = Int(json["status"]?.intValue ?? 200)
        if let error = json["error"] {
            return .error(code: error["code"]?.stringValue ?? "", message: error["message"]?.stringValue ?? "", status: status)
        }
        return .result(json["result"]?.objectValue ?? JSONObject(), status: status)
    }

    @Test("every waiter, eight scripted sequences each: the same number of polls, the same outcome and reason")
    func everyWaiter() throws {
        let reference = try waiterReference.get()
        #expect(reference["botocore"]?.stringValue == "1.44.5")
        let engine = AWSEngine(models: try ModelStore(root: Fixtures.modelsDir), environment: [:])
        let waiters = reference["waiters"]?.arrayValue ?? []
        #expect(waiters.count > 400)
        var outcomes: [String: Int] = [:]
        for entry in waiters {
            let service = entry["service"]?.stringValue ?? "", name = entry["name"]?.stringValue ?? ""
            guard let waiter = try engine.waiter(name, service: service) else {
                Issue.record("\(service).\(name): not found")
                continue
            }
            for (index, scenario) in (entry["scenarios"]?.arrayValue ?? []).enumerated() {
                var waiting = Waiting(waiter, delaySeconds: 0, maxAttempts: 4)
                var outcome = "", reason: String?
                for answer in scenario["answers"]?.arrayValue ?? [] {
                    do {
                        switch try waiting.observe(Self.answer(answer)) {
                        case .retry: continue
                        case .success: outcome = "success"
                        case .failure(let why): (outcome, reason) = ("failure", why)
                        case .timeout(let why): (outcome, reason) = ("timeout", why)
                        }
                    } catch {
                        outcome = "error"
                    }
                    break
                }
                outcomes[outcome, default: 0] += 1
                let expected = (scenario["outcome"]?.stringValue, scenario["polls"]?.intValue)
                #expect(outcome == expected.0 && Int64(waiting.attempts) == expected.1,
                        "\(service).\(name) #\(index): \(outcome) after \(waiting.attempts), botocore \(expected.0 ?? "") after \(expected.1 ?? 0)")
                if outcome == "failure" || outcome == "timeout" {
                    #expect(reason == scenario["reason"]?.stringValue, "\(service).\(name) #\(index): \(reason ?? "")")
                }
            }
        }
        // Every way a wait ends is met many times.
        #expect(outcomes["success", default: 0] > 500 && outcomes["failure", default: 0] > 500 && outcomes["timeout", default: 0] > 50)
    }
}
