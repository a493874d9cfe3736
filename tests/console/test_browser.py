"""The console in a real headless Chromium (Debian's, driven by Playwright) against a real `gateway serve`
process, on SQLite and PostgreSQL; the CLI works on the same store. Screenshots go to test-artefacts/console/."""

from collections.abc import Iterator
import os
from pathlib import Path
import shutil
import subprocess
import sys
import time

import httpx
import pytest

from gateway.console.accounts import Accounts
from gateway.store import JobFilter, JobState, open_store
from tests.conftest import REPO, fresh_schema
from tests.console.conftest import NEW_PASSWORD, PASSWORD
from tests.console.seed import AGENCY_A, AGENCY_B, REFUSAL, seed

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTEFACTS = REPO / "test-artefacts" / "console"
playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium missing: run scripts/system-deps")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Site:
    def __init__(self, url: str, store_url: str, seeded: object, name: str) -> None:
        self.url, self.store_url, self.seeded, self.name = url, store_url, seeded, name


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if request.param == "sqlite":
        context = None
        store_url = f"sqlite:///{tmp_path_factory.mktemp('console')}/gateway.db"
    else:
        context = fresh_schema(request.getfixturevalue("postgres_base_url"))
        store_url = context.__enter__()
    store = open_store(store_url)
    seeded = seed(store, dossiers=30)
    accounts = Accounts(store.engine)
    accounts.add("quantri", PASSWORD, "admin", ["*"])
    accounts.add("vanhanh_a", PASSWORD, "operator", [AGENCY_A])
    accounts.add("vanhanh_chung", PASSWORD, "operator", ["*"])
    store.close()
    port = _free_port()
    server = subprocess.Popen([str(Path(sys.executable).with_name("gateway")), "serve", "--store", store_url,
                               "--host", "127.0.0.1",
                               "--port", str(port)], cwd=tmp_path_factory.mktemp("cwd"),
                              env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz").status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        server.kill()
        pytest.fail("gateway serve did not start: " + server.communicate()[0].decode()[-2000:])
    try:
        yield Site(url, store_url, seeded, request.param)
    finally:
        server.terminate()
        server.wait(20)
        if context is not None:
            context.__exit__(None, None, None)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: object, site: Site) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    opened = context.new_page()
    errors: list[str] = []
    # CSP violations and script errors land here (a 404 the test asks for is not one)
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" and "status of 404" not in m.text else None)
    opened.on("pageerror", lambda e: errors.append(str(e)))
    yield opened
    context.close()
    assert not errors, errors


def shot(page: object, site: Site, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{site.name}-{name}.png"), full_page=True)


def log_in(page: object, site: Site, username: str, first: bool = True) -> None:
    page.goto(site.url + "/console/")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD if first else NEW_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    if first:
        page.wait_for_url("**/console/password")
        shot(page, site, "01-forced-password-change")
        page.get_by_label("Mật khẩu hiện tại").fill(PASSWORD)
        page.get_by_label("Mật khẩu mới (ít nhất 12 ký tự)").fill(NEW_PASSWORD)
        page.get_by_label("Nhập lại mật khẩu mới").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Đổi mật khẩu").click()
    page.wait_for_url("**/console/")


def test_operator_day(page: object, site: Site) -> None:
    """Forced change, overview charts, search by dossier code, a failed packet's reason, bulk replay with a
    dry run, pausing a destination — and agency B's dossier stays out of reach."""
    log_in(page, site, "vanhanh_a")
    assert page.locator("svg.chart").count() == 4 and page.locator("svg.chart rect").count() > 0
    shot(page, site, "02-overview")
    dead_code = next(c for c, a in site.seeded.dossiers.items() if a == AGENCY_A and int(c[-4:]) % 5 == 0)
    page.get_by_role("link", name="Tìm kiếm").click()
    page.get_by_label("Mã hồ sơ").fill(dead_code)
    page.get_by_label("Mã hồ sơ").press("Enter")
    shot(page, site, "03-search")
    page.get_by_role("link", name=dead_code).first.click()
    assert page.get_by_text(REFUSAL).first.is_visible()
    shot(page, site, "04-dossier-timeline")

    code_b = next(c for c, a in site.seeded.dossiers.items() if a == AGENCY_B)
    answer = page.goto(f"{site.url}/console/dossier/{code_b}")
    assert answer.status == 404 and code_b not in page.locator("main").inner_text()
    assert page.get_by_role("alert").inner_text() == "Không tìm thấy (hoặc bạn không có quyền xem)."

    page.goto(site.url + "/console/dead")
    boxes = page.locator('input[name="job"]')
    mine = boxes.count()
    assert mine > 1
    page.get_by_label("Chọn tất cả").check()  # the one script: select all
    page.get_by_label("Lý do gửi lại (bắt buộc, ghi nhật ký)").fill("danh mục TTHC đã cập nhật")
    page.get_by_role("button", name="Đếm thử (không gửi)").click()
    assert page.locator("#would").inner_text() == f"Sẽ gửi lại {mine} việc. Bấm “Gửi lại các thư đã chọn” để thực hiện."
    shot(page, site, "05-dead-letters-dry-run")
    page.get_by_role("button", name="Gửi lại các thư đã chọn").click()
    # live progress: console.js polls the run and fills in each job's result as it comes
    page.locator("#replay-state").filter(has_text="Đã xong.").wait_for(timeout=20_000)
    assert page.locator("#progress").inner_text() == f"Tiến độ: {mine}/{mine}"
    assert page.locator("#replay-state").inner_text() == "Đã xong."
    assert page.get_by_text("đã đưa lại hàng đợi").count() == mine
    shot(page, site, "06-replayed")

    # destinations are shared by all agencies: agency A's operator is offered no pause, and a forged one is refused
    page.get_by_role("link", name="Đích nhận").click()
    assert page.get_by_role("button", name="Tạm dừng").count() == 0
    csrf = page.locator('input[name="csrf"]').first.get_attribute("value")
    forged = page.request.post(site.url + "/console/destinations/postal",
                               form={"csrf": csrf, "action": "pause", "why": "thử"})
    assert forged.status == 403 and "shared by all agencies" in forged.text() and "dùng chung" in forged.text()
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url("**/console/login")
    log_in(page, site, "vanhanh_chung")  # an operator of all agencies may
    page.get_by_role("link", name="Đích nhận").click()
    page.get_by_label("Lý do (ghi nhật ký)").first.fill("bảo trì theo lịch")
    page.get_by_role("button", name="Tạm dừng").first.click()
    assert page.get_by_role("button", name="Mở lại").count() == 1
    shot(page, site, "07-destinations")

    store = open_store(site.store_url)  # the CLI's view of the same store
    try:
        assert store.destination_state("catalogue").paused or any(
            store.destination_state(n).paused for n in ("national_portal", "postal", "payment", "provincial_portal"))
        dead_b = [j for j in site.seeded.dead if store.get_job(j) and store.get_job(j).state is JobState.DEAD]
        assert len(dead_b) == len(site.seeded.dead) - mine
        assert store.count_jobs(JobFilter(state=JobState.DEAD)) == len(dead_b)
    finally:
        store.close()
    metrics = httpx.get(site.url + "/metrics").text  # scraped while it runs, against the store
    assert f'gateway_dead_letters{{destination="national_portal"}} {float(len(dead_b))}' in metrics


CONTRAST = """() => {
  const rgb = s => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = c => { const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
                     return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const background = el => { for (; el; el = el.parentElement) { const c = getComputedStyle(el).backgroundColor;
                               if (!c.startsWith('rgba(0, 0, 0, 0)') && c !== 'transparent') return c; } return 'rgb(255, 255, 255)'; };
  const bad = [];
  for (const el of document.querySelectorAll('body *')) {
    if (!el.offsetParent || ![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    if (el.closest('svg')) continue;
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(rgb(background(el)));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) bad.push(el.tagName + ' ' + el.textContent.trim().slice(0, 30) + ' ' + ratio.toFixed(2));
  }
  return bad;
}"""

UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map(el => el.outerHTML)"""


def test_accessibility_basics(page: object, site: Site) -> None:
    """Every field labelled, text contrast at least 4.5:1 (WCAG AA), and the main path works from the keyboard."""
    page.goto(site.url + "/console/login")
    focused = "document.activeElement.id || document.activeElement.className || document.activeElement.textContent.trim()"
    # autofocus: the browser applies it a moment after the load event on a busy machine, so wait for it
    page.wait_for_function("document.activeElement && document.activeElement.id === 'username'",
                           timeout=5_000)
    page.keyboard.type("quantri")
    page.keyboard.press("Tab")
    assert page.evaluate(focused) == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    assert page.evaluate(focused) == "Đăng nhập"
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/password")
    page.keyboard.press("Tab")  # the skip link comes first on every page
    assert page.evaluate(focused) == "skip"
    page.focus("#current")
    for text in (PASSWORD, NEW_PASSWORD, NEW_PASSWORD):
        page.keyboard.type(text)
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/")
    for path in ("/console/", "/console/search?dossier=x", "/console/dead", "/console/destinations",
                 "/console/reports?quality=1",
                 "/console/lang?to=en&back=/console/"):
        page.goto(site.url + path)
        assert page.evaluate(UNLABELLED) == [], path
        assert page.evaluate(CONTRAST) == [], path
    shot(page, site, "08-overview-english")
    page.goto(site.url + "/console/reports?quality=1")
    shot(page, site, "09-reports")
