from backprop_tutor.cli.app import main

main()
