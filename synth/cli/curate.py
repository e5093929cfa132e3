"""CLI commands for the curate stage (registered on synth.cli.app)."""
