"""CLI commands for the pipeline stage (registered on synth.cli.app)."""
