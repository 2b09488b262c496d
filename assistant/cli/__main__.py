"""`python -m assistant.cli ...` runs `govdata`."""

from assistant.cli.main import main

main()
