// `import Tune` gives every library module of swift-tune at once; each can also be imported on its own (see
// docs/ARCHITECTURE.md for what each holds).
@_exported import TuneData
@_exported import TuneDiagnosis
@_exported import TuneEngine
@_exported import TuneExport
@_exported import TuneNN
@_exported import TuneRandom
@_exported import TuneReport
@_exported import TuneRun
@_exported import TuneSearch
@_exported import TuneTensor
@_exported import TuneTraining
