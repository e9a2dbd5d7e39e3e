import AWSJMESPath
import AWSJSON
import Foundation
import Testing
import TestSupport

/// One file of the JMESPath compliance suite (`../shared/conformance/jmespath`).
struct ComplianceFile: CustomTestStringConvertible, Sendable {
    let name: String
    var testDescription: String { name }

    static var directory: String { Fixtures.sharedConformance + "/jmespath" }

    static func all() -> [ComplianceFile] {
        Fixtures.listDirectory(directory).filter { $0.hasSuffix(".json") }.map { ComplianceFile(name: $0) }
    }
}

let complianceSuitePresent = Fixtures.isDirectory(ComplianceFile.directory)
let complianceSuiteRequired = ProcessInfo.processInfo.environment["CI"] == "true"

/// The compliance suite lives beside the repository, not in it: a newcomer's clone has
/// none, and then it is skipped with the reason shown. Under CI it must be there.
@Suite("JMESPath compliance suite: ../shared/conformance/jmespath",
       .enabled(if: complianceSuitePresent || complianceSuiteRequired,
                "../shared/conformance is not beside this clone: the 892 JMESPath compliance cases are skipped"))
struct ComplianceTests {
    @Test("the suite is all there: 15 files, 892 cases")
    func suitePresent() throws {
        let files = ComplianceFile.all()
        #expect(files.count == 15)
        var cases = 0
        for file in files {
            for group in try Fixtures.readJSON(ComplianceFile.directory + "/" + file.name).arrayValue ?? [] {
                cases += group["cases"]?.arrayValue?.count ?? 0
            }
        }
        #expect(cases == 892)
    }

    @Test("every case: the result, or the error kind", arguments: ComplianceFile.all())
    func file(_ file: ComplianceFile) throws {
        let groups = try Fixtures.readJSON(ComplianceFile.directory + "/" + file.name).arrayValue ?? []
        #expect(!groups.isEmpty)
        for group in groups {
            let given = group["given"] ?? .null
            for testCase in group["cases"]?.arrayValue ?? [] {
                guard let expression = testCase["expression"]?.stringValue else { continue }
                let outcome: Result<JSON, JMESPathError> = Result { () throws(JMESPathError) in try JMESPath(expression).search(given) }
                if let kind = testCase["error"]?.stringValue {
                    switch outcome {
                    case .success(let value): Issue.record("\(expression): expected a \(kind) error, got \(value.serializedString())")
                    case .failure(let error): #expect(error.kind.rawValue == kind, "\(expression)")
                    }
                } else {
                    let expected = testCase["result"] ?? .null
                    switch outcome {
                    case .success(let value): #expect(value == expected, "\(expression): got \(value.serializedString()), expected \(expected.serializedString())")
                    case .failure(let error): Issue.record("\(expression): \(error)")
                    }
                }
            }
        }
    }
}
