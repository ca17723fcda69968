SessionBridgeCommand.main()
