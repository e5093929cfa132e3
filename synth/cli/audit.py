"""CLI commands for the audit stage (registered on synth.cli.app)."""
