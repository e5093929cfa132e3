"""The review stage's entry point: write or import the review CSV, or serve the review page."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from synth.config import RunConfig
from synth.errors import InputError, SynthError
from synth.review.decisions_csv import import_csv, write_csv
from synth.review.server import make_server
from synth.review.session import ReviewSession, open_review
from synth.rundir import RunDir

Log = Callable[[str], None]


def run_review(config: RunConfig, run: RunDir, *, log: Log, csv_out: Path | None = None,
               csv_in: Path | None = None, reviewer: str = "reviewer", host: str | None = None,
               port: int | None = None) -> ReviewSession:
    """CSV out and/or in when given (then return), else serve the page until Ctrl-C."""
    session = open_review(config, run)
    if csv_out or csv_in:
        review_csv(session, log, csv_out, csv_in, reviewer)
    else:
        serve(session, log, host or config.review.host,
              config.review.port if port is None else port, reviewer)
    return session


def review_csv(session: ReviewSession, log: Log, csv_out: Path | None, csv_in: Path | None,
               reviewer: str) -> None:
    if csv_out:
        log(f"wrote {len(session.items)} pairs to {write_csv(session, csv_out)}")
    if csv_in:
        result = import_csv(session, csv_in, reviewer)
        log(f"saved {result.saved} decision(s); {result.blank} row(s) undecided")
        for error in result.errors:
            log(f"[red]{error}[/]")
        if result.errors:
            raise InputError(f"{len(result.errors)} row(s) not imported", file=str(csv_in))


def serve(session: ReviewSession, log: Log, host: str, port: int, reviewer: str) -> None:
    try:
        server = make_server(session, host, port, reviewer)
    except OSError as exc:
        raise SynthError(f"cannot serve the review page on {host}:{port}: {exc}") from None
    bound_host, bound_port = server.server_address[:2]
    log(f"review {len(session.items)} pairs at http://{bound_host}:{bound_port}/ (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        log(f"stopped; decisions are in {session.store.path}")
    finally:
        server.server_close()
