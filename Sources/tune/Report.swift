import ArgumentParser
import Foundation
import Tune

extension TuneCommand {
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write report.html for a run directory (tune train) or a study directory (tune search).",
            discussion: """
            One self-contained HTML file (inline SVG and CSS, no script, nothing fetched): for a run, the loss, metric \
            and learning-rate curves with the selected and lowest-loss epochs marked, the doctor's findings and the \
            metrics; for a study, best-so-far against trials and against epochs, every trial's curve (pruned ones \
            faded), the trials' parameters, the recipe's stages and the ensemble against single models, and the best \
            model's curves. tune train and tune search write it themselves at the end.
            """)

        @Argument(help: "The run or study directory.") var directory: String

        func run() throws {
            let url = URL(fileURLWithPath: directory)
            try withDataErrors { try HTMLReport.write(url) }
            print("written to \(url.appendingPathComponent("report.html").path)")
        }
    }
}
