import Foundation
import Testing
@testable import TuneData

@Suite("CSV edge cases")
struct EdgeCaseTests {
    @Test func repeatedColumnNamesAreRefused() {
        let e = dataError("y,noise,y\n1,2,3\n")
        #expect(e?.message == "columns 1 and 3 are both called 'y'; column names must be unique")
    }

    @Test func mixedLineEndingsKeepEveryRow() throws {
        let t = try parse("a,b\n1,1\r2,2\n3,3\r4,4\n5,5\r6,6\n")
        #expect(t.rowCount == 6)
        #expect(t.numbers[0] == [1, 2, 3, 4, 5, 6])
        #expect(t.rowLines == [2, 3, 4, 5, 6, 7])
    }

    @Test func linesOfSpacesAreBlankWithOrWithoutQuotes() throws {
        #expect(try parse("a,b\n1,2\n   \n3,4\n").rowCount == 2)
        #expect(try parse("a,b\n\"1\",2\n   \n3,4\n").rowCount == 2)
    }

    @Test func blankLinesBeforeTheHeaderAreSkipped() throws {
        let t = try parse("\n\na,b\n1,2\n")
        #expect(t.header == ["a", "b"] && t.rowCount == 1 && t.rowLines == [4])
    }

    @Test func aSpaceDelimiterWithQuotedFields() throws {
        let t = try parse("x y\n\"1\" 0\n\"2 2\" 1\n", delimiter: 0x20)
        #expect(t.rowCount == 2)
        #expect(t.numbers[0][0] == 1 && t.texts[0]?[1] == "2 2")
    }

    @Test func hexadecimalIsTextAndHugeNumbersAreRefusedForTraining() throws {
        let hex = try parse("a\n0x10\n")
        #expect(hex.texts[0]?[0] == "0x10")
        var lines = ["a,y"]
        for i in 0..<20 { lines.append("\(i == 5 ? "1e39" : String(i)),\(i % 2)") }
        do {
            _ = try DataPreparation.prepare(try parse(lines.joined(separator: "\n")), target: "y")
            Issue.record("no error")
        } catch let e as DataError {
            #expect(e.line == 7 && e.column == "a" && e.message.contains("out of range"))
        }
    }
}
