"""`python -m web.cli`: the `huiyin` command when its script is not on PATH."""

from web.cli import main

main()
