"""A job (a long run queued in `placement.jobs`) as the pages show it while it runs.

A run's page includes `_job_progress.html`, which htmx polls at the run's status path
until the run ends; then the answer is a 204 asking htmx to reload the page, which shows
how it ended. Without JavaScript the page offers a link to look again.
"""

from __future__ import annotations

from typing import Any

from litestar import Response
from litestar.response import Template

from placement.jobs.service import FINAL
from placement.models import Job

POLL_SECONDS = 2
"""How often an open run's page asks whether the run has ended."""
STATUS_WORDS = {
    "queued": "Waiting to start",
    "running": "Running",
    "succeeded": "Finished",
    "failed": "Could not finish",
    "cancelled": "Cancelled",
}


def in_words(job: Job, status_path: str) -> dict[str, Any]:
    """The run's state for its page and its progress fragment."""
    return {
        "job_id": str(job.id),
        "status": job.status,
        "status_text": STATUS_WORDS.get(job.status, job.status),
        "percent": round(100 * job.progress),
        "message": job.message,
        "error": job.error,
        "cancel_requested": job.cancel_requested,
        "final": job.status in FINAL,
        "status_path": status_path,
        "poll_seconds": POLL_SECONDS,
    }


def progress_fragment(job: Job, status_path: str) -> Template | Response[None]:
    """What htmx's poll gets: the progress while the run is open, else the reload."""
    if job.status in FINAL:
        return Response(None, status_code=204, headers={"HX-Refresh": "true"})
    return Template(template_name="_job_progress.html", context=in_words(job, status_path))
