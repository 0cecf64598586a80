from traderctl.cli.main import main

main()
