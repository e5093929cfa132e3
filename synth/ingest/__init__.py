"""Ingest + audit: messy JSON/JSONL exports -> Segments (segments.jsonl) and quarantined records
with named reasons (quarantine.jsonl), plus the audit report. Entry point: run_ingest."""
from synth.ingest.audit import write_audit
from synth.ingest.base import IngestResult
from synth.ingest.stage import ingest_paths, iter_problem_lines, run_ingest

__all__ = ["IngestResult", "ingest_paths", "iter_problem_lines", "run_ingest", "write_audit"]
