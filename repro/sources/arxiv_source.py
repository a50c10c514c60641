"""arXiv papers: metadata through the ``arxiv`` package and the PDF, both cached under
``$REPRO_HOME/papers/arxiv/``.

Ids are checked before any request: new style ``2408.10536`` (4-5 digits after the dot,
optional ``vN``) or old style ``hep-th/9901001``; an ``arXiv:`` prefix is accepted. Requests are
retried with exponential backoff; when arXiv cannot be reached the error says to pass the PDF with
``--pdf``. The base URL is injectable (argument or ``$REPRO_ARXIV_URL``) so that tests talk to a
local fake server: the API is then ``<base>/api/query`` and PDFs ``<base>/pdf/<id>``.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from pathlib import Path

from pydantic import BaseModel, Field

from repro.atomic import atomic_write, atomic_write_text
from repro.cache import repro_home, slug
from repro.errors import ReproError, first_line

NEW_ID_RE = re.compile(r"^\d{4}\.\d{4,5}(v\d+)?$")
OLD_ID_RE = re.compile(r"^[a-z]+(-[a-z]+)*(\.[A-Z]{2})?/\d{7}(v\d+)?$")
DEFAULT_API = "https://export.arxiv.org/api/query"


class PaperMeta(BaseModel):
    """What arXiv says about a paper."""

    arxiv_id: str
    title: str
    authors: list[str] = Field(default_factory=list)
    summary: str = ""
    published: str = ""
    pdf_url: str | None = None


def normalise_id(arxiv_id: str) -> str:
    """The id without an ``arXiv:`` prefix; a ReproError for anything that is not an arXiv id."""
    value = arxiv_id.strip()
    value = re.sub(r"^arxiv:", "", value, flags=re.IGNORECASE)
    if NEW_ID_RE.match(value) or OLD_ID_RE.match(value):
        return value
    raise ReproError(f"'{arxiv_id}' is not an arXiv id; use e.g. 2408.10536, 2408.10536v2 or hep-th/9901001")


def papers_dir() -> Path:
    """Cache folder of arXiv downloads."""
    return repro_home() / "papers" / "arxiv"


def _reason(exc: BaseException) -> str:
    """A short cause: a connection failure in words, not urllib3's pool and retry dump."""
    import requests

    text = first_line(exc)
    if isinstance(exc, requests.ConnectionError) or "ConnectionPool" in text or "Max retries" in text:
        host = re.search(r"host='([^']+)'", text)
        return f"no connection to {host.group(1) if host else 'arxiv.org'}"
    if isinstance(exc, requests.Timeout):
        return "the request timed out"
    return text[:120]


class ArxivSource:
    """Fetch arXiv metadata and PDFs, with a cache and retries.

    Args:
        base_url: server root for API and PDFs (default: arXiv itself, or ``$REPRO_ARXIV_URL``).
        retries: attempts after the first one.
        backoff: seconds before the first retry; doubled for each further one.
        timeout: seconds per request.
    """

    def __init__(
        self, base_url: str | None = None, retries: int = 3, backoff: float = 2.0, timeout: float = 30.0
    ) -> None:
        self.base_url = (base_url or os.environ.get("REPRO_ARXIV_URL") or "").rstrip("/") or None
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout

    def _client(self):  # -> arxiv.Client
        import arxiv

        # Retries are ours (with backoff); the client's own retry immediately.
        client = arxiv.Client(page_size=1, delay_seconds=0.0, num_retries=0)
        client.query_url_format = (f"{self.base_url}/api/query" if self.base_url else DEFAULT_API) + "?{}"
        return client

    def _retrying(self, what: str, arxiv_id: str, call):
        delay = self.backoff
        for attempt in range(self.retries + 1):
            try:
                return call()
            except ReproError:
                raise
            except Exception as exc:  # requests, feed parsing and HTTP errors all mean "try again"  # noqa: BLE001
                last = exc
                if attempt < self.retries:
                    time.sleep(delay)
                    delay *= 2
        reason = _reason(last)
        raise ReproError(
            f"cannot get the {what} of arXiv {arxiv_id} ({reason}); offline? "
            f"download the PDF yourself and pass it with --pdf FILE"
        )

    def metadata(self, arxiv_id: str) -> PaperMeta:
        """The paper's metadata (cached)."""
        arxiv_id = normalise_id(arxiv_id)
        cached = papers_dir() / f"{slug(arxiv_id)}.json"
        if cached.is_file():
            return PaperMeta.model_validate_json(cached.read_text(encoding="utf-8"))
        import arxiv

        def call() -> PaperMeta:
            results = list(self._client().results(arxiv.Search(id_list=[arxiv_id], max_results=1)))
            if not results:
                raise ReproError(f"arXiv has no paper {arxiv_id}; check the id")
            r = results[0]
            return PaperMeta(
                arxiv_id=arxiv_id,
                title=" ".join(r.title.split()),
                authors=[a.name for a in r.authors],
                summary=" ".join(r.summary.split()),
                published=r.published.isoformat(),
                pdf_url=r.pdf_url,
            )

        meta = self._retrying("metadata", arxiv_id, call)
        with contextlib.suppress(OSError):  # a read-only or full $REPRO_HOME: fetched again next time
            atomic_write_text(cached, meta.model_dump_json(indent=1))
        return meta

    def pdf(self, arxiv_id: str) -> Path:
        """The paper's PDF in the cache (downloaded once)."""
        import requests

        meta = self.metadata(arxiv_id)
        target = papers_dir() / f"{slug(meta.arxiv_id)}.pdf"
        if target.is_file():
            return target
        url = (
            f"{self.base_url}/pdf/{meta.arxiv_id}"
            if self.base_url
            else (meta.pdf_url or f"https://arxiv.org/pdf/{meta.arxiv_id}")
        )

        def call() -> bytes:
            resp = requests.get(url, timeout=self.timeout, headers={"user-agent": "repro (claims drafting)"})
            resp.raise_for_status()
            if not resp.content.startswith(b"%PDF"):
                raise RuntimeError(f"{url} did not return a PDF")
            return resp.content

        content = self._retrying("PDF", meta.arxiv_id, call)
        try:
            atomic_write(target, lambda fh: fh.write(content))
        except OSError:
            # A read-only or full $REPRO_HOME: the PDF lives in a temporary file for this run.
            import tempfile

            with tempfile.NamedTemporaryFile(suffix=".pdf", delete=False) as fh:
                fh.write(content)
            return Path(fh.name)
        return target
