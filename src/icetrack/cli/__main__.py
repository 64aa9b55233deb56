from icetrack.cli import main

main()
