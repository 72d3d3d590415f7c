import Foundation
import Testing
import TuneTensor
@testable import TuneData

@Suite("Preparing data: types, missing values, encoding, targets and splits")
struct PreparationTests {
    /// 30 rows: a number with a missing value, a category, a boolean, an id, and a label.
    func table(missingPolicy: MissingPolicy = .impute) -> String {
        var lines = ["id,size,colour,flag,label"]
        let colours = ["red", "green", "blue"]
        for i in 0..<30 {
            let size = i == 7 ? "NA" : String(Double(i) * 0.5)
            lines.append(
                "\(1000 + i),\(size),\(colours[i % 3]),\(i % 2 == 0 ? "yes" : "no"),\(i % 2 == 0 ? "cat" : "dog")")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test func aSplitColumnDecidesTheRowsAndIsNotAFeature() throws {
        // Rows 0-5 train, 6-7 validation, 8-9 test, as the column says (in any case, 'val' accepted).
        var lines = ["x,part,y"]
        let parts = ["train", "TRAIN", "train", "train", "train", "train", "validation", "val", "test", "Test"]
        for i in 0..<10 { lines.append("\(i),\(parts[i]),\(i % 2)") }
        let d = try DataPreparation.prepare(
            try parse(lines.joined(separator: "\n")), target: "y", split: .standard, seed: 9, splitColumn: "part")
        #expect(d.preprocessor.features.map(\.name) == ["x"])
        #expect(d.train.count == 6 && d.validation.count == 2 && d.test.count == 2)
        // Standardised with the training rows 0...5 (mean 2.5, population deviation sqrt(35/12)).
        let sd = Float((35.0 / 12).squareRoot())
        #expect(
            abs(d.validation.x.scalars[0] - (6 - 2.5) / sd) < 1e-5 && abs(d.test.x.scalars[1] - (9 - 2.5) / sd) < 1e-5)
        #expect(d.test.classes == [0, 1])

        lines[4] = "3,training,1"
        #expect {
            try DataPreparation.prepare(try parse(lines.joined(separator: "\n")), target: "y", splitColumn: "part")
        } throws: { e in
            let e = e as? DataError
            return e?.line == 5 && e?.column == "part" && e!.message.contains("'training'")
        }
        #expect(throws: DataError.self) {
            try DataPreparation.prepare(try parse(lines.joined(separator: "\n")), target: "y", splitColumn: "nope")
        }
    }

    @Test func kindsAreInferred() throws {
        let t = try parse(table())
        #expect(inferKind(t, column: 1) == .numeric)
        #expect(inferKind(t, column: 2) == .categorical)
        #expect(inferKind(t, column: 3) == .boolean)
        #expect(inferKind(t, column: 4) == .categorical)
    }

    @Test func encodingImputationAndStandardisationFitOnTrainingRows() throws {
        var options = PreprocessingOptions()
        options.ignore = ["id"]
        let d = try DataPreparation.prepare(
            try parse(table()), target: "label", split: .standard, seed: 3, options: options)
        let p = d.preprocessor
        #expect(p.target.task == .binary)
        #expect(p.target.classes == ["cat", "dog"])
        #expect(p.featureNames == ["size", "size_missing", "colour=blue", "colour=green", "colour=red", "flag"])
        #expect(d.train.count + d.validation.count + d.test.count == 30)
        // The training part's standardised size column has mean 0 and (population) deviation 1.
        let column = (0..<d.train.count).map { d.train.x[$0, 0] }
        let mean = column.reduce(0, +) / Float(column.count)
        let sd = (column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(column.count)).squareRoot()
        #expect(abs(mean) < 1e-5)
        #expect(abs(sd - 1) < 1e-4)
        // Every one-hot group sums to 1; the flag is 0 or 1.
        for r in 0..<d.test.count {
            #expect(d.test.x[r, 2] + d.test.x[r, 3] + d.test.x[r, 4] == 1)
            #expect(d.test.x[r, 5] == 0 || d.test.x[r, 5] == 1)
        }
    }

    @Test func missingValuesDropOrFail() throws {
        var options = PreprocessingOptions()
        options.missing = .drop
        let dropped = try DataPreparation.prepare(try parse(table()), target: "label", options: options)
        #expect(dropped.train.count + dropped.validation.count + dropped.test.count == 29)
        #expect(dropped.notes.contains("1 rows with missing values were dropped"))
        options.missing = .fail
        do {
            _ = try DataPreparation.prepare(try parse(table()), target: "label", options: options)
            Issue.record("no error")
        } catch let e as DataError {
            #expect(e.line == 9 && e.column == "size")
        }
    }

    @Test func rareCategoriesShareTheOtherColumn() throws {
        var lines = ["c,y"]
        for i in 0..<40 { lines.append("\(i < 20 ? "a" : (i < 30 ? "b" : "r\(i)")),\(i % 2)") }
        var options = PreprocessingOptions()
        options.categoryLimit = 2
        let d = try DataPreparation.prepare(try parse(lines.joined(separator: "\n")), target: "y", options: options)
        #expect(d.preprocessor.featureNames == ["c=a", "c=b", "c=other"])
    }

    @Test func badTargetsAreRefusedWithClearErrors() throws {
        let t = try parse(table())
        do {
            _ = try DataPreparation.prepare(t, target: "species")
            Issue.record("no error")
        } catch let e as DataError {
            #expect(e.message == "unknown target column 'species'; the columns are: id, size, colour, flag, label")
        }
        let one = try parse("x,y\n1,a\n2,a\n3,a\n4,a\n")
        do {
            _ = try DataPreparation.prepare(one, target: "y")
            Issue.record("no error")
        } catch let e as DataError {
            #expect(e.message.contains("only one class"))
        }
        let rare = try parse("x,y\n1,a\n2,a\n3,a\n4,a\n5,b\n6,b\n")
        do {
            _ = try DataPreparation.prepare(rare, target: "y")
            Issue.record("no error")
        } catch let e as DataError {
            #expect(e.message.contains("class 'b' has only 2 rows"))
        }
        let text = try parse("x,y\n1,2.5\n2,abc\n3,4\n4,5\n")
        do {
            _ = try DataPreparation.prepare(text, target: "y", task: .regression)
            Issue.record("no error")
        } catch let e as DataError {
            #expect(e.line == 3 && e.column == "y" && e.message.contains("'abc' is not a number"))
        }
    }

    @Test func taskDetection() throws {
        var lines = ["x,y,z"]
        for i in 0..<50 { lines.append("\(i),\(Double(i) * 1.37),\(i % 4)") }
        let t = try parse(lines.joined(separator: "\n"))
        #expect(try DataPreparation.prepare(t, target: "y").preprocessor.target.task == .regression)
        let multi = try DataPreparation.prepare(t, target: "z").preprocessor.target
        #expect(multi.task == .multiclass && multi.classes == ["0", "1", "2", "3"])
    }

    @Test func transformAtPredictionFindsColumnsByNameAndNamesWhatIsMissing() throws {
        var options = PreprocessingOptions()
        options.ignore = ["id"]
        let p = try DataPreparation.prepare(try parse(table()), target: "label", options: options).preprocessor
        let reordered = try parse("flag,colour,size\nno,purple,3\n")
        let x = try p.transform(reordered)
        // An unseen colour gets no one-hot column (no "other" was needed in training).
        #expect(x.scalars[2...4] == [0, 0, 0])
        #expect(x.scalars[5] == 0)
        do {
            _ = try p.transform(try parse("flag,size\nno,3\n"))
            Issue.record("no error")
        } catch let e as DataError {
            #expect(e.message.contains("the model needs the column 'colour'"))
        }
        do {
            _ = try p.transform(try parse("flag,colour,size\nno,red,big\n"))
            Issue.record("no error")
        } catch let e as DataError {
            #expect(e.line == 2 && e.column == "size" && e.message == "'big' is not a number")
        }
    }
}

@Suite("Splits")
struct SplitTests {
    @Test func stratifiedSplitsKeepProportionsAndAreSeeded() {
        let strata = (0..<100).map { $0 < 80 ? 0 : 1 }
        let a = Splitter.split(count: 100, fractions: .standard, seed: 1, strata: strata)
        let b = Splitter.split(count: 100, fractions: .standard, seed: 1, strata: strata)
        let c = Splitter.split(count: 100, fractions: .standard, seed: 2, strata: strata)
        #expect(a.train == b.train && a.validation == b.validation && a.test == b.test)
        #expect(a.train != c.train)
        #expect(Set(a.train + a.validation + a.test) == Set(0..<100))
        #expect(a.train.count + a.validation.count + a.test.count == 100)
        // 80/20 classes, 60/20/20 parts: 16 + 4 in validation, 16 + 4 in test.
        #expect(a.validation.filter { strata[$0] == 1 }.count == 4)
        #expect(a.test.filter { strata[$0] == 1 }.count == 4)
        #expect(a.validation.count == 20 && a.test.count == 20)
    }

    @Test func kFoldCoversEveryRowOnce() {
        let folds = Splitter.kFold(count: 23, k: 5, seed: 4, strata: (0..<23).map { $0 % 2 })
        #expect(folds.count == 5)
        #expect(folds.flatMap(\.validation).sorted() == Array(0..<23))
        for f in folds {
            #expect(Set(f.train).isDisjoint(with: f.validation) && f.train.count + f.validation.count == 23)
        }
    }

    @Test func splitFractionsParse() {
        #expect((try? SplitFractions.parse("0.7,0.3").get()) == SplitFractions(train: 0.7, validation: 0.3, test: 0))
        #expect((try? SplitFractions.parse("0.5,0.5,0.5").get()) == nil)
        #expect((try? SplitFractions.parse("a,b,c").get()) == nil)
    }
}
