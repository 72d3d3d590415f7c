import ArgumentParser
import Foundation
import Tune

extension TuneCommand {
    struct MLflowSync: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mlflow-sync",
            abstract: "Send to MLflow what tune train or tune search could not send and kept on disk.",
            discussion: """
                When the MLflow server is down, failing or hanging, tune train and tune search go on training and keep \
                what they could not send in mlflow-unsent/ of their output directory. This command sends it: the runs \
                first (nested runs under their parent), then parameters, metrics with their original steps and times, \
                artifacts and each run's status. A run already on the server (sent before a crash, say) is found by its \
                swift_tune_run tag and not created twice. Progress is saved as it goes: when the server fails again, run \
                the command again to send the rest. What is sent is removed; what the server refuses (an answer in 400-499 \
                other than about access or size) goes to mlflow-unsent/refused.json, and a file that a running tune \
                process still writes is left for a later sync; mlflow-unsent/ goes when nothing is left. The server is \
                --mlflow, else MLFLOW_TRACKING_URI, else the one the run was logging to. MLFLOW_TRACKING_TOKEN (or \
                MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD) is sent and never printed.
                """)

        @Argument(help: "The output directory of tune train or tune search (or its mlflow-unsent/).") var directory:
            String
        @Option(
            help: "The MLflow tracking server (default: MLFLOW_TRACKING_URI, else the server the run was logging to).")
        var mlflow: String?

        func run() throws {
            let url = URL(fileURLWithPath: directory)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue
            else {
                throw DataError(path: directory, "no such directory")
            }
            guard let spool = MLflowSpool.find(in: url) else {
                print("\(directory): nothing to send (no \(MLflowSpool.directoryName)/ with kept operations in it)")
                return
            }
            let outcome = try send(spool)
            for note in outcome.notes { print("note: \(note)") }
            for refused in outcome.refused { print("refused by the server: \(refused)") }
            print("sent \(outcome.runs) runs and \(outcome.operations) more operations")
            if let file = outcome.refusedFile { print("the operations the server refused are kept in \(file.path)") }
            if outcome.left > 0 {
                print("\(outcome.left) files still being written are left in \(spool.path) for a later sync")
            }
            if !FileManager.default.fileExists(atPath: spool.path) { print("\(spool.path) removed") }
        }

        /// Sends the kept operations to the server the flags, the environment or the kept files name.
        func send(_ spool: URL) throws -> MLflowSpool.Outcome {
            let recorded = try MLflowSpool.server(of: spool)
            guard let server = MLflowClient.trackingServer(flag: mlflow, recorded: recorded)
            else {
                throw DataError(
                    path: "--mlflow",
                    "no MLflow server to send to: pass --mlflow http://HOST:PORT (MLFLOW_TRACKING_URI is not an http(s) address and the kept files do not name one server)"
                )
            }
            let client = MLflowClient(url: server)
            let shown = MLflowClient.withoutCredentials(server.absoluteString)
            print("sending \(spool.path) to \(shown)")
            do {
                func bare(_ s: String?) -> String? { s.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } }
                return try MLflowSpool.send(spool, client: client, sameServer: bare(recorded) == bare(shown))
            } catch let stopped as MLflowSpool.Interrupted {
                throw DataError(
                    path: shown,
                    "\(stopped); what was sent is recorded in \(spool.path)/sent.json: run tune mlflow-sync again to send the rest"
                )
            }
        }
    }
}
