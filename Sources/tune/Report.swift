import ArgumentParser
import Foundation
import Tune

extension TuneCommand {
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write report.html for a run directory (tune train) or a study directory (tune search).",
            discussion: """
                One self-contained HTML file (inline SVG and CSS, no script, nothing fetched; values show on hover): for a \
                run, the loss and metric curves with the selected epoch, the lowest-loss epoch and the onset of \
                overfitting marked, the learning rate at every step, the doctor's findings and the metrics; for a study, \
                best-so-far against trials and against epochs, every trial's curve (pruned ones faded), parallel \
                coordinates of the trials, each parameter's importance (the correlation ratio eta squared, one parameter \
                at a time), the LR range test with its suggestion, the trials' parameters, the recipe's stages, the \
                ensemble against single models, and the best model's curves. tune train and tune search write it \
                themselves at the end.
                """)

        @Argument(help: "The run or study directory.") var directory: String

        func run() throws {
            let url = URL(fileURLWithPath: directory)
            try ReportFiles.write(url)
            print("written to \(url.appendingPathComponent("report.html").path)")
        }
    }
}
