from backprop_tutor.cli import main

main()
