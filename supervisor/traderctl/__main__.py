from traderctl.cli.fast import main

main()
