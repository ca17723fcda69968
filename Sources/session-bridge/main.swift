import SessionBridgeCLI

// The command line lives in the SessionBridgeCLI library, where tests can run it in process.
CLI.main(CommandLine.arguments)
