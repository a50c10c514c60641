"""The arXiv client against a local fake server: ids, metadata, PDF, cache, retries, offline error."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from repro.errors import ReproError
from repro.sources.arxiv_source import ArxivSource, normalise_id
from tests.paper_fixtures import CLAIM, make_paper

REPO = Path(__file__).resolve().parents[1]
FEED = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"
      xmlns:arxiv="http://arxiv.org/schemas/atom">
  <opensearch:totalResults>1</opensearch:totalResults>
  <opensearch:startIndex>0</opensearch:startIndex>
  <opensearch:itemsPerPage>1</opensearch:itemsPerPage>
  <entry>
    <id>http://arxiv.org/abs/2408.10536v1</id>
    <updated>2024-08-20T00:00:00Z</updated>
    <published>2024-08-20T00:00:00Z</published>
    <title>Synergistic Approach for
      Simultaneous Optimization</title>
    <summary>Hybrid batches.</summary>
    <author><name>Adel Elmahdy</name></author>
    <author><name>Sheng-Chieh Lin</name></author>
    <link href="http://arxiv.org/pdf/2408.10536v1" rel="related" type="application/pdf" title="pdf"/>
    <arxiv:primary_category term="cs.IR"/>
    <category term="cs.IR"/>
  </entry>
</feed>"""


class _Server:
    def __init__(self, pdf: bytes, fail_first: int = 0) -> None:
        self.hits: list[str] = []
        self.fail_first = fail_first
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits.append(self.path)
                if len(outer.hits) <= outer.fail_first:
                    self.send_response(503)
                    self.end_headers()
                    return
                body = FEED.encode() if self.path.startswith("/api/query") else pdf
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def pdf_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_paper(tmp_path_factory.mktemp("arxiv") / "p.pdf").read_bytes()


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPRO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("REPRO_ARXIV_URL", raising=False)


@pytest.mark.parametrize(
    "good", ["2408.10536", "2408.10536v2", "arXiv:0704.0001", "hep-th/9901001", "math.GT/0309136v1"]
)
def test_valid_ids(good: str) -> None:
    assert normalise_id(good) == good.removeprefix("arXiv:")


@pytest.mark.parametrize("bad", ["2408.105", "24081.0536", "2408.10536v", "hep-th/990100", "http://x", "../../etc", ""])
def test_malformed_ids_are_rejected_before_any_request(bad: str, pdf_bytes: bytes) -> None:
    server = _Server(pdf_bytes)
    try:
        with pytest.raises(ReproError, match="not an arXiv id"):
            ArxivSource(base_url=server.url).pdf(bad)
        assert server.hits == []
    finally:
        server.close()


def test_metadata_and_pdf_are_fetched_once(pdf_bytes: bytes, tmp_path: Path) -> None:
    server = _Server(pdf_bytes, fail_first=1)
    try:
        src = ArxivSource(base_url=server.url, retries=2, backoff=0.01)
        meta = src.metadata("2408.10536")
        assert meta.title == "Synergistic Approach for Simultaneous Optimization"
        assert meta.authors == ["Adel Elmahdy", "Sheng-Chieh Lin"]
        path = src.pdf("2408.10536")
        assert path.read_bytes() == pdf_bytes and path.parent == tmp_path / "home" / "papers" / "arxiv"
        # One failed attempt (503) retried, the feed, the PDF; then everything comes from the cache.
        assert [h.split("?")[0] for h in server.hits] == ["/api/query", "/api/query", "/pdf/2408.10536"]
        assert "id_list=2408.10536" in server.hits[1]
        ArxivSource(base_url=server.url).pdf("2408.10536")
        assert len(server.hits) == 3
    finally:
        server.close()


def test_unreachable_server_suggests_pdf() -> None:
    src = ArxivSource(base_url="http://127.0.0.1:9", retries=1, backoff=0.01, timeout=2)
    with pytest.raises(ReproError, match="--pdf FILE") as err:
        src.pdf("2408.10536")
    assert "\n" not in str(err.value)


def test_cli_extract_from_fake_arxiv(pdf_bytes: bytes, tmp_path: Path) -> None:
    server = _Server(pdf_bytes)
    try:
        env = {**os.environ, "REPRO_HOME": str(tmp_path / "h"), "REPRO_ARXIV_URL": server.url}
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                "from repro.cli import main; main()",
                "claims",
                "extract",
                "--arxiv",
                "2408.10536",
                "--into",
                str(tmp_path / "d.yaml"),
            ],
            capture_output=True,
            text=True,
            cwd=REPO,
            env=env,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert CLAIM in out.stdout
        assert "arxiv: '2408.10536'" in (tmp_path / "d.yaml").read_text()
    finally:
        server.close()
