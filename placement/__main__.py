"""`python -m placement` is the `placement` command."""

from placement.cli import main

if __name__ == "__main__":
    main(prog_name="placement")
