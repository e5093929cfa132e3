"""CLI commands for the judge stage (registered on synth.cli.app)."""
