import ArgumentParser

TuneCommand.main()
