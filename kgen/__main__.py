from kgen.cli import run

run()
