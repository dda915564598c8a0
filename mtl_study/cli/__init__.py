"""Command-line interface: one Typer app per noun, joined in `main`."""
