import AWSJMESPath
import AWSJSON
import Foundation
import Testing
import TestSupport

/// Python's `jmespath` (botocore's) on every expression of botocore's paginators and
/// waiters, on documents shaped like each operation's output.
let pythonReference = PythonReference.run("jmespath_reference.py")
let referenceAvailable: Bool = (try? pythonReference.get()) != nil

@Suite("JMESPath: botocore's paginators and waiters, against Python's jmespath",
       .enabled(if: referenceAvailable || PythonReference.required,
                "python3 with jmespath is not installed (pip install jmespath==1.1.0): the agreement with botocore's evaluator is not checked"))
struct BotocoreExpressionTests {
    @Test("every expression compiles and gives what Python's jmespath 1.1.0 gives, on four documents of its operation's output")
    func agreement() throws {
        let reference = try pythonReference.get()
        #expect(reference["jmespath"]?.stringValue == "1.1.0")
        let operations = reference["operations"]?.arrayValue ?? []
        #expect(operations.count > 3_000)
        var compared = 0, nonEmpty = 0
        for operation in operations {
            let documents = operation["documents"]?.arrayValue ?? []
            let name = "\(operation["service"]?.stringValue ?? "").\(operation["operation"]?.stringValue ?? "")"
            for entry in operation["expressions"]?.arrayValue ?? [] {
                let text = entry["expression"]?.stringValue ?? ""
                let expression: JMESPath
                do {
                    expression = try JMESPath(text)
                } catch {
                    Issue.record("\(name): \(text) does not compile: \(error)")
                    continue
                }
                for (document, expected) in zip(documents, entry["results"]?.arrayValue ?? []) {
                    compared += 1
                    let outcome: Result<JSON, JMESPathError> = Result { () throws(JMESPathError) in try expression.search(document) }
                    switch (outcome, expected["error"]?.stringValue) {
                    case (.success(let value), nil):
                        let want = expected["value"] ?? .null
                        if value != .null && value != .array([]) { nonEmpty += 1 }
                        #expect(value == want, "\(name): \(text) gave \(value.serializedString()), Python \(want.serializedString())")
                    case (.failure(let error), let kind?):
                        #expect(error.kind.rawValue == kind, "\(name): \(text)")
                    case (.success(let value), let kind?):
                        Issue.record("\(name): \(text) gave \(value.serializedString()), Python a \(kind) error")
                    case (.failure(let error), nil):
                        Issue.record("\(name): \(text) failed (\(error)), Python gave \((expected["value"] ?? .null).serializedString())")
                    }
                }
            }
        }
        #expect(compared > 29_000)
        // The documents reach what the expressions name: most answers are not empty.
        #expect(nonEmpty > compared / 2)
    }
}
