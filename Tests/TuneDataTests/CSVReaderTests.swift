import Foundation
import Testing
@testable import TuneData

func parse(_ text: String, delimiter: UInt8? = nil) throws -> CSVTable {
    try CSVReader.parse(Data(text.utf8), path: "test.csv", delimiter: delimiter)
}

func dataError(_ text: String, delimiter: UInt8? = nil) -> DataError? {
    do {
        _ = try parse(text, delimiter: delimiter)
        return nil
    } catch let e as DataError {
        return e
    } catch {
        return nil
    }
}

@Suite("CSV reading (RFC 4180)")
struct CSVReaderTests {
    @Test func quotedFieldsEscapedQuotesEmbeddedDelimitersAndNewlines() throws {
        let t = try parse("name,note,x\r\n\"Smith, J\",\"said \"\"hi\"\"\r\nand left\",1.5\r\nplain,,2\r\n")
        #expect(t.header == ["name", "note", "x"])
        #expect(t.rowCount == 2)
        #expect(t.texts[0]! == ["Smith, J", "plain"])
        #expect(t.texts[1]! == ["said \"hi\"\r\nand left", nil])
        #expect(t.missing[1] == [false, true])
        #expect(t.numbers[2] == [1.5, 2])
        #expect(t.texts[2] == nil, "an all-number column keeps no text")
        // The second record starts on line 4: the quoted field of the first spans lines 2 and 3.
        #expect(t.rowLines == [2, 4])
    }

    @Test func byteOrderMarkAndDelimiterDetection() throws {
        let bom = try CSVReader.parse(Data([0xEF, 0xBB, 0xBF] + Array("a;b\n1;2\n".utf8)), path: "bom.csv")
        #expect(bom.header == ["a", "b"])
        #expect(bom.delimiter == UInt8(ascii: ";"))
        let tab = try parse("a\tb\tc\n1\t2\t3\n")
        #expect(tab.delimiter == 0x09 && tab.numbers[2] == [3])
        // A comma inside a quoted header name does not count.
        let semi = try parse("\"x,y\";z\n1;2\n")
        #expect(semi.header == ["x,y", "z"])
        let forced = try parse("a;b\n1;2\n", delimiter: UInt8(ascii: ","))
        #expect(forced.header == ["a;b"])
    }

    @Test func missingTokensAndNumbers() throws {
        let t = try parse("a\n1\nNA\nnan\nnull\n?\n\n-2.5e3\n+7\n 3 \n")
        // The empty line is skipped as a blank line; the rest are cells.
        #expect(t.rowCount == 8)
        #expect(t.missing[0] == [false, true, true, true, true, false, false, false])
        #expect(t.numbers[0][5] == -2500 && t.numbers[0][6] == 7 && t.numbers[0][7] == 3)
        #expect(t.texts[0] == nil)
        let empty = try parse("a,b\n,1\n")
        #expect(empty.missing[0] == [true])
    }

    @Test func fastNumberParsingAgreesWithStrtod() throws {
        let values = [
            "0.1", "123456.789", "1e-5", "3.4028235e38", "-0.0", "1.17549435e-38", "9007199254740993",
            "0.30000000000000004", "12.5E+2", ".5", "5."
        ]
        let t = try parse("x\n" + values.joined(separator: "\n") + "\n")
        for (cell, v) in zip(t.numbers[0], values) {
            #expect(cell == Float(strtod(v, nil)), "\(v)")
        }
    }

    @Test func raggedRowsNameTheLineAndCounts() {
        let e = dataError("a,b,c\n1,2,3\n4,5\n")
        #expect(e?.line == 3)
        #expect(e?.message == "expected 3 columns (as in the header), found 2")
        #expect(e?.description.hasPrefix("test.csv:3") == true)
    }

    @Test func emptyFilesUnclosedQuotesAndBinaryFiles() {
        #expect(dataError("")?.message.contains("empty") == true)
        #expect(dataError("a,b\n")?.message.contains("no data rows") == true)
        let quote = dataError("a,b\n1,\"open\n2,3\n")
        #expect(quote?.line == 2 && quote?.message.contains("never closed") == true)
        let binary = (try? CSVReader.parse(Data([0x50, 0x4B, 0x03, 0x04, 0x00, 0x00, 0x14]), path: "x.zip")).map { _ in
            ""
        }
        #expect(binary == nil)
        do {
            _ = try CSVReader.parse(Data([0x50, 0x4B, 0x03, 0x04, 0x00, 0x00, 0x14]), path: "x.zip")
        } catch let e as DataError {
            #expect(e.message.contains("not a text file"))
        } catch {
            Issue.record("unexpected \(error)")
        }
        do {
            _ = try CSVReader.parse(Data([0x61, 0x0A, 0xFF, 0xFE, 0x0A]), path: "latin.csv")
            Issue.record("accepted invalid UTF-8")
        } catch let e as DataError {
            #expect(e.message.contains("not UTF-8"))
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(dataError("a\n\"x\"y\n")?.message.contains("after a closing quote") == true)
    }

    @Test func aMissingFileIsAnError() {
        #expect(throws: DataError.self) { try CSVReader.read(path: "/nonexistent/data.csv") }
    }
}

@Suite("CSV reading in parallel chunks")
struct ParallelCSVTests {
    /// About 6 MB: a number, a half, a word every 1000th row (else a number), and NA every 777th row.
    func bigText(raggedAt: Int? = nil) -> String {
        var lines = ["i,half,mixed"]
        lines.reserveCapacity(300_001)
        for i in 0..<300_000 {
            if i == raggedAt { lines.append("\(i),1"); continue }
            let mixed = i % 1000 == 0 ? "word\(i)" : (i % 777 == 0 ? "NA" : String(i % 10))
            lines.append("\(i),\(Double(i) * 0.5),\(mixed)")
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    @Test func everyRowLandsInPlaceWithItsLine() throws {
        let t = try parse(bigText())
        #expect(t.rowCount == 300_000)
        for i in [0, 1, 149_999, 150_000, 150_001, 299_999] {
            #expect(t.numbers[0][i] == Float(i))
            #expect(t.numbers[1][i] == Float(Double(i) * 0.5))
            #expect(t.rowLines[i] == Int32(i + 2))
        }
        #expect(t.texts[2]?[299_000] == "word299000")
        #expect(t.missing[2][777] && !t.missing[2][778])
        #expect(t.numbers[2][778] == 8)
    }

    @Test func aRaggedRowDeepInTheFileIsReportedAtItsLine() {
        let e = dataError(bigText(raggedAt: 250_000))
        #expect(e?.line == 250_002)
        #expect(e?.message == "expected 3 columns (as in the header), found 2")
    }
}
