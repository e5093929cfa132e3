"""CLI commands for the validate stage (registered on synth.cli.app)."""
