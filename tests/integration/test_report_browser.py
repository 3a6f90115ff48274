"""The change-board report end to end: a real run, `make report`'s builder, headless Chromium.

A snapshot fleet of three hosts (the field report's node, which FAILS
contiguous_blocks; a healthy node; a host whose SSH port is closed) is run
through the whole suite with ``--alluredir``; the report is built twice (the
second build must carry the first one's history), served on 127.0.0.1 and
rendered by Debian's ``chromium --headless --dump-dom``. Nothing here is
skipped: without Chromium, Java or the npm Allure command line the test FAILS
(`make test` installs all three).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.allure_results import labels, load_results, parameters, validate_results
from tests.gate_snapshots import field_report_node
from tests.suite_runs import INSTALLED_ALLURE, run_suite
from vrouter_preflight.reporting.board import host_overviews
from vrouter_preflight.reporting.build_report import build_report, overview_charts

pytestmark = pytest.mark.timeout(300)

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
    "--window-size=1440,1000",
    "--virtual-time-budget=15000",
)


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "no chromium on PATH: `make test` installs it (tools/system-packages.sh test)"
    return path


def render(url: str, home: Path, *, screenshot: Path | None = None) -> str:
    """The DOM of ``url`` after its scripts ran, from headless Chromium (or a screenshot of it)."""
    home.mkdir(parents=True, exist_ok=True)
    profile = home / f"profile-{len(list(home.iterdir()))}"
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "XDG_CACHE_HOME": str(home / ".cache")}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    action = f"--screenshot={screenshot}" if screenshot is not None else "--dump-dom"
    done = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", action, url],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 0, f"chromium exited {done.returncode}: {done.stderr[-2000:]}"
    return done.stdout


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """``directory`` over HTTP on 127.0.0.1 (a free port) for the duration; yields the base URL."""
    handler = functools.partial(QuietHandler, directory=str(directory.resolve()))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def embedded(single_file: Path) -> dict[str, bytes]:
    """The data files Allure 2's ``--single-file`` embeds (``d('data/suites.json','<base64>')``)."""
    text = single_file.read_text(encoding="utf-8")
    return {m[1]: base64.b64decode(m[2]) for m in re.finditer(r"d\('([^']+)','([^']*)'\)", text)}


def leaves(
    node: dict[str, Any], parent: dict[str, Any] | None = None
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for child in node.get("children") or []:
        if "children" in child:
            yield from leaves(child, child)
        elif parent is not None:
            yield parent, child


def text_of(dom: str) -> str:
    """The DOM without scripts, styles and inline data, for readable assertion messages."""
    dom = re.sub(r'src="data:[^"]*"', 'src="data:…"', dom)
    return re.sub(r"<(script|style)\b.*?</\1>", "", dom, flags=re.S)


def fleet(tmp_path: Path) -> Path:
    field_report_node(tmp_path / "field")
    field_report_node(tmp_path / "healthy", normal_order10=(300, 280))
    inventory = {
        "defaults": {"expect": {"default_hugepagesz": "1G", "hugepages": {"1G": 340}}},
        "hosts": {
            "field-node": {"transport": "snapshot", "path": "field"},
            "healthy-node": {"transport": "snapshot", "path": "healthy", "vrouter": {"hugepage_size": "1G"}},
            "gone-node": {"transport": "ssh", "address": "127.0.0.1", "port": 1, "connect_timeout": 3},
        },
    }
    path = tmp_path / "fleet.yaml"
    path.write_text(json.dumps(inventory))
    return path


def test_report_overview_counts_and_the_failing_hosts_page_with_its_chart(tmp_path: Path) -> None:
    assert INSTALLED_ALLURE.is_file(), f"{INSTALLED_ALLURE} missing: `make test` runs npm ci in tools/report"
    alluredir, summary_path = tmp_path / "allure-results", tmp_path / "summary.json"
    run = run_suite("--inventory", str(fleet(tmp_path)), f"--alluredir={alluredir}", f"--summary-json={summary_path}")
    assert run.returncode == 1, run.stdout + run.stderr
    summary = json.loads(summary_path.read_text())
    verdicts = {name: host["verdict"] for name, host in summary["hosts"].items()}
    assert verdicts == {"field-node": "fail", "healthy-node": "pass", "gone-node": "error"}
    results = load_results(alluredir)
    validate_results(results, alluredir)
    failing = next(
        r for r in results if labels(r, "check_id") == ["contiguous_blocks"] and parameters(r)["host"] == "field-node"
    )
    assert not [a for a in failing["attachments"] if a["type"] == "image/png"], "a run draws no pictures"
    field = next(overview for overview in host_overviews(summary) if overview.host == "field-node")
    chart = dict(overview_charts(field))["chart: free blocks per order and NUMA node"]

    out, history = tmp_path / "reports" / "report", tmp_path / "reports" / "allure-history"
    first = build_report(alluredir, summary_path, out, history, allure=INSTALLED_ALLURE)
    assert first.results == len(results) + 3 and first.hosts == 3
    second = build_report(alluredir, summary_path, out, history, allure=INSTALLED_ALLURE)
    index = second.index
    assert [p.name for p in out.iterdir()] == ["index.html"], "the report is one self-contained file"
    trend = json.loads((second.site / "widgets" / "history-trend.json").read_text())
    assert len(trend) == 2, f"the second report must carry the first one's history: {trend}"
    assert len(json.loads((history / "history-trend.json").read_text())) == 2

    data = embedded(index)
    suites = json.loads(data["data/suites.json"])
    by_name = {leaf["name"]: (suite["uid"], leaf) for suite, leaf in leaves(suites)}
    failing_title = next(name for name in by_name if name.startswith("field-node: not enough contiguous memory"))
    suite_uid, leaf = by_name[failing_title]
    overview_uid, overview_leaf = by_name["field-node: FAIL — contiguous_blocks"]
    case = json.loads(data[f"data/test-cases/{overview_leaf['uid']}.json"])
    shown = {a["name"]: a for a in case["testStage"]["attachments"]}
    chart_uid = shown["chart: free blocks per order and NUMA node"]["uid"]

    home = tmp_path / "chromium-home"
    with serve(out) as base:
        page = f"{base}/index.html"
        overview = render(page, home)
        assert f'splash__title">{second.results}</div><div class="splash__subtitle">test cases' in overview, text_of(
            overview
        )[-4000:]
        assert f"vRouter preflight: {summary['inventory']}" in overview
        change_board = re.search(r'<div class="table__col">Change board</div>(.*?)</a>', overview, re.S)
        assert change_board is not None, text_of(overview)[-4000:]
        bars = dict(re.findall(r'bar__fill_status_(\w+)" style="[^"]*">(\d+)<', change_board[1]))
        assert bars == {"failed": "1", "passed": "1", "broken": "1"}, bars
        environment = re.search(r">hosts</div><div[^>]*>(\d+)<", overview)
        assert environment is not None and environment[1] == "3", "the Environment block names 3 hosts"
        for category in ("Insufficient contiguous memory", "Hosts held back", "Unreachable"):
            assert category in overview, category
        assert "There is nothing to show" not in overview.split('data-id="trend"')[-1][:3000]

        host_page = render(f"{page}#suites/{suite_uid}/{leaf['uid']}", home)
        assert "not enough contiguous memory for a reload" in host_page
        assert "free 1 × 1G page on node 0 or on node 1" in host_page
        assert "Insufficient contiguous memory" in host_page

        board_page = render(f"{page}#suites/{overview_uid}/{overview_leaf['uid']}", home)
        for words in ("Recommended action", "Do not reload vRouter on this host yet", "To fix: free 1 × 1G page"):
            assert words in board_page, words
        assert "chart: free blocks per order and NUMA node" in board_page

        with_chart = render(f"{page}#suites/{overview_uid}/{overview_leaf['uid']}?attachment={chart_uid}", home)
        images = re.findall(r'<img class="attachment-preview__media" src="data:image/png;base64,([^"]+)"', with_chart)
        assert images, text_of(with_chart)[-3000:]
        assert base64.b64decode(images[0]) == chart, "the host overview shows the picture drawn from the summary"
