"""CLI commands for the generate stage (registered on synth.cli.app)."""
