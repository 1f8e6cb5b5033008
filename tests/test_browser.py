"""The real app in a real browser: the map page shows the demo township with no internet.

Streamlit runs headless on a free loopback port; Playwright drives Debian's /usr/bin/chromium
(browsers cannot be downloaded here). Any request to a non-local address is blocked and fails
the test, so a CDN or tile dependency cannot creep back in.
"""

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from layers.store.gpkg import GeoPackageStore
from tests.conftest import ROOT, unavailable
from tests.pg_server import free_port

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / "build" / "screenshots"
LOCAL = (
    "http://localhost",
    "http://127.0.0.1",
    "ws://localhost",
    "ws://127.0.0.1",
    "data:",
    "blob:",
    "about:",
)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, demo_frames):
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} not installed (apt-get install chromium)")
    if not (ROOT / "app/static/vendor/leaflet/leaflet.js").exists():
        unavailable("Leaflet not vendored: run scripts/vendor_assets.sh (make does)")
    path = tmp_path_factory.mktemp("browser") / "demo.gpkg"
    store = GeoPackageStore(path)
    store.upgrade()
    store.write_layers(demo_frames, replace=True)
    county = demo_frames["villages"]["county_code"].iloc[0]
    store.accounts().add_user("admin", "county_admin", [county], ADMIN_PASSWORD)
    village = sorted(demo_frames["villages"]["village_code"])[0]
    store.accounts().add_user("director", "village_director", [village], DIRECTOR_PASSWORD)
    STORE_PATH.append(path)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    log = open(path.with_suffix(".log"), "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app",
            "--store",
            str(path),
            "--port",
            str(port),
            "--address",
            "127.0.0.1",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://localhost:{port}"
    deadline = time.time() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"app did not start: {path.with_suffix('.log').read_text()[-2000:]}")
        time.sleep(0.5)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture
def page():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright not installed")
    external: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")

        def guard(route):
            if route.request.url.startswith(LOCAL):
                return route.continue_()
            external.append(route.request.url)
            return route.abort()

        context.route("**/*", guard)
        pg = context.new_page()
        pg.external_requests = external
        yield pg
        browser.close()


STORE_PATH: list = []  # the app's GeoPackage, to read its audit log
ADMIN_PASSWORD = "admin-browser-1"
DIRECTOR_PASSWORD = "director-browser-1"


def _login(page, app_url: str, username: str, password: str) -> None:
    """Log in through the form; later pages are reached by the sidebar (a reload logs out)."""
    page.goto(app_url)
    page.get_by_label("登录名").fill(username)
    page.get_by_label("口令").fill(password)
    page.get_by_role("button", name="登录").click()
    page.get_by_text("各图层记录数").wait_for(timeout=30_000)


def _open(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()


def _uploader(page, label: str):
    """The file input of the uploader labelled `label`: by label, not by position, since a page
    may still be drawing its other uploaders (a photo uploader in a form comes first)."""
    box = page.locator('[data-testid="stFileUploader"]').filter(has_text=label)
    return box.locator('[data-testid="stFileUploaderDropzoneInput"]')


def _map_frame(page, timeout_s: float = 60):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        for frame in page.frames:
            if "st_folium" in frame.url and frame.locator(".leaflet-container").count():
                return frame
        page.wait_for_timeout(500)
    raise AssertionError("no Leaflet map appeared on the page")


def _stable_cluster_total(frame, timeout_s: float = 30) -> int:
    """Sum of cluster labels once it stops changing (zoom animations show old and new)."""
    last, deadline = -1, time.time() + timeout_s
    while time.time() < deadline:
        texts = frame.locator(".marker-cluster").all_inner_texts()
        total = sum(int(t) for t in texts if t.strip().isdigit())
        if total == last and total > 0:
            return total
        last = total
        frame.page.wait_for_timeout(1000)
    raise AssertionError("cluster markers never settled")


def test_map_page_offline_with_legend_and_clusters(app_url, page, demo_frames):
    _login(page, app_url, "admin", ADMIN_PASSWORD)
    _open(page, "风险地图")
    frame = _map_frame(page)
    frame.locator(".marker-cluster").first.wait_for(timeout=30_000)
    total = _stable_cluster_total(frame)
    # The clusters hold the households (a few may stand alone as single markers).
    assert 0.9 * len(demo_frames["households"]) <= total <= len(demo_frames["households"])
    legend = frame.locator(".shouhu-legend")
    assert legend.count() == 1
    assert "四个一不全" in legend.inner_text() and "易涝易滑坡体" in legend.inner_text()
    controls = frame.locator(".leaflet-control-layers").inner_text()
    assert "水域（按四个一状态）" in controls and "儿童家庭（聚合）" in controls
    # One pair of zoom buttons, titled in Chinese; one scale bar, in metres only.
    assert frame.locator(".leaflet-control-zoom").count() == 1
    assert frame.locator("a.leaflet-control-zoom-in").get_attribute("title") == "放大"
    assert frame.locator("a.leaflet-control-zoom-out").get_attribute("title") == "缩小"
    scale = frame.locator(".leaflet-control-scale-line")
    assert scale.count() == 1 and re.fullmatch(r"\d+ k?m", scale.inner_text().strip())
    credit = frame.locator(".leaflet-control-attribution")
    assert credit.inner_text().strip() == "Leaflet" and credit.locator("a, svg").count() == 0
    box = frame.locator(".leaflet-container").bounding_box()
    assert box and box["height"] > 300  # a blank, zero-height map is the offline failure mode
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "map.png"), full_page=True)
    assert page.external_requests == []


def test_risk_page_shows_tiers_on_the_map(app_url, page):
    _login(page, app_url, "admin", ADMIN_PASSWORD)
    _open(page, "风险分级")
    frame = _map_frame(page)
    total = _stable_cluster_total(frame)
    assert total > 0
    legend = frame.locator(".shouhu-legend").inner_text()
    assert "风险一级" in legend and "风险三级" in legend
    # Clusters carry the colour class of the highest tier inside them.
    assert frame.locator(".marker-cluster-tier-high").count() > 0
    page.get_by_text("风险清单").first.wait_for(timeout=30_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "risk.png"), full_page=True)
    with page.expect_download(timeout=30_000) as download:
        page.get_by_role("button", name="下载清单（CSV）").click()
    assert download.value.suggested_filename.endswith(".csv")
    listed = pd.read_csv(download.value.path(), encoding="utf-8-sig")
    exports = _audit_rows("export", "admin")
    assert exports.iloc[0]["layer"] == "risk_household" and exports.iloc[0]["rows"] == len(listed)
    with page.expect_download(timeout=30_000) as download:  # at once: the CSV's click left it
        page.get_by_role("button", name="下载清单（Excel）").click()
    assert len(pd.read_excel(download.value.path())) == len(listed)
    # A search in the village box that matches nothing says so in Chinese, not "No results".
    page.get_by_role("combobox", name="村（社区）").click()
    page.keyboard.type("不存在的村")
    empty = page.locator('[role="listbox"][data-empty="true"] [role="option"] > span')
    empty.wait_for(timeout=30_000)
    shown = empty.evaluate(
        "e => [getComputedStyle(e).fontSize, getComputedStyle(e, '::after').content]"
    )
    assert shown[0] == "0px" and "没有匹配的选项" in shown[1]
    page.keyboard.press("Escape")
    assert page.external_requests == []


def test_a_village_director_sees_only_that_village(app_url, page, demo_frames):
    _login(page, app_url, "director", DIRECTOR_PASSWORD)
    village = sorted(demo_frames["villages"]["village_code"])[0]
    households = demo_frames["households"]
    in_village = int((households["village_code"] == village).sum())
    _open(page, "风险地图")
    frame = _map_frame(page)
    frame.locator(".marker-cluster").first.wait_for(timeout=30_000)
    total = _stable_cluster_total(frame)
    assert 0.8 * in_village <= total <= in_village < len(households)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "director_map.png"), full_page=True)
    assert "审计日志" not in page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert page.external_requests == []


def _audit_rows(action: str, username: str, timeout_s: float = 20, layer: str | None = None):
    """The audit rows of an action (on `layer` if given), waiting for the app to write them."""
    deadline = time.time() + timeout_s
    while True:
        rows = (
            GeoPackageStore(STORE_PATH[0]).accounts().audit_rows(username=username, action=action)
        )
        if layer is not None:
            rows = rows[rows["layer"] == layer]
        if len(rows) or time.time() > deadline:
            return rows
        time.sleep(0.5)


def test_child_register_downloads_masked_and_reveal_is_logged(app_url, page, demo_frames):
    _login(page, app_url, "director", DIRECTOR_PASSWORD)
    village = sorted(demo_frames["villages"]["village_code"])[0]
    mine = demo_frames["children"][demo_frames["children"]["village_code"] == village]
    _open(page, "儿童名册")
    page.get_by_text("已按规定隐藏").wait_for(timeout=30_000)
    assert page.locator(".shouhu-internal").first.inner_text() == "内部资料 · 注意保密"
    with page.expect_download(timeout=30_000) as download:
        page.get_by_role("button", name="下载名册（CSV）").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert text.count("\n") == len(mine) + 1
    assert not [v for v in mine["id_number"].dropna() if v in text]
    assert not [v for v in mine["name"] if v in text]
    assert all(f"{v[:6]}********{v[-4:]}" in text for v in mine["id_number"].dropna())
    assert _audit_rows("export", "director").iloc[0]["rows"] == len(mine)
    # Each button writes its own format when clicked (the Excel one is not a second CSV).
    with page.expect_download(timeout=30_000) as download:
        page.get_by_role("button", name="下载名册（Excel）").click()
    book = pd.read_excel(download.value.path(), dtype=str)
    assert len(book) == len(mine) and not [v for v in mine["name"] if v in set(book.stack())]
    page.get_by_role("button", name="显示完整信息（将记入审计日志）").click()
    page.get_by_text("正在显示完整个人信息").wait_for(timeout=30_000)
    assert _audit_rows("reveal", "director").iloc[0]["rows"] == len(mine)
    # The table's own "Download as CSV" would take the names shown in full away unlogged (a
    # director may not export them): only the page's download buttons are offered.
    page.locator('[data-testid="stDataFrame"]').first.hover()
    page.get_by_role("button", name="搜索").wait_for(timeout=10_000)  # its toolbar is up
    assert page.locator('button[aria-label="Download as CSV"]').count() == 1
    assert not page.locator('button[aria-label="Download as CSV"]').is_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "children_revealed.png"), full_page=True)
    assert page.external_requests == []


def test_a_director_corrects_a_guardian_phone_on_the_register_page(app_url, page, demo_frames):
    """Pick a child (masked list), open the form (full values), check, confirm: written."""
    village = sorted(demo_frames["villages"]["village_code"])[0]
    store = GeoPackageStore(STORE_PATH[0])
    child = store.read_layer("children", village_codes=[village]).iloc[-1]
    _login(page, app_url, "director", DIRECTOR_PASSWORD)
    _open(page, "儿童名册")
    page.get_by_text("修改一名儿童的信息").wait_for(timeout=30_000)
    page.get_by_role("combobox", name="选择要修改的儿童").click()
    page.keyboard.type(child["child_id"])
    page.get_by_role("option").filter(has_text=child["child_id"]).click()
    phone = page.get_by_label("监护人电话", exact=True)
    phone.wait_for(timeout=30_000)
    assert phone.input_value() == child["guardian_phone"]
    phone.fill("13900002222")
    phone.press("Tab")  # as a user moves on: the form holds the value before the click
    page.get_by_role("button", name="检查（不写入）").click()
    page.get_by_text("检查通过").wait_for(timeout=30_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "child_edit.png"), full_page=True)
    assert store.read_layer("children").set_index("child_id").loc[
        child["child_id"], "guardian_phone"] == child["guardian_phone"]  # fmt: skip
    page.get_by_role("button", name="确认修改").click()
    page.get_by_text("已保存").wait_for(timeout=30_000)
    assert store.read_layer("children").set_index("child_id").loc[
        child["child_id"], "guardian_phone"] == "13900002222"  # fmt: skip
    assert page.external_requests == []


def test_wrong_password_shows_a_chinese_error_and_no_data(app_url, page):
    page.goto(app_url)
    page.get_by_label("登录名").fill("director")
    page.get_by_label("口令").fill("wrong-password-1")
    page.get_by_role("button", name="登录").click()
    page.get_by_text("用户名或口令错误").wait_for(timeout=30_000)
    assert "各图层记录数" not in page.content()


def test_home_page_renders_in_chinese(app_url, page):
    _login(page, app_url, "admin", ADMIN_PASSWORD)
    assert "守护" in page.title() or "守护" in page.content()
    assert page.external_requests == []


def test_chromium_has_cjk_fonts():
    if shutil.which("fc-list") is None:
        unavailable("fontconfig not installed")
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
    if not fonts.strip():
        unavailable("no CJK font: apt-get install fonts-noto-cjk")
    assert "Noto" in fonts or "CJK" in fonts


def test_a_director_imports_a_ledger_checks_then_confirms(app_url, page, demo_frames, tmp_path):
    """Upload, check (nothing written), confirm (all written), upload again (nothing changes)."""
    from tests.test_child_import import _rows, _xlsx

    village = sorted(demo_frames["villages"]["village_code"])[0]
    villages = demo_frames["villages"].set_index("village_code").loc[[village, village]]
    rows = _rows(villages.reset_index(), 2)
    path = tmp_path / "台账.xlsx"
    path.write_bytes(_xlsx(rows))
    before = GeoPackageStore(STORE_PATH[0]).count("children")
    _login(page, app_url, "director", DIRECTOR_PASSWORD)
    _open(page, "导入导出")
    # Streamlit's "Upload" and "200MB per file" are shown in Chinese instead.
    dropzone = page.locator('[data-testid="stFileUploaderDropzone"]').first
    for part, chinese in (
        ("button p", "选择文件"),
        ('[data-testid="stFileUploaderDropzoneInstructions"] span', "或把文件拖到这里"),
    ):
        shown = dropzone.locator(part).evaluate(
            "e => [getComputedStyle(e).fontSize, getComputedStyle(e, '::after').content]"
        )
        assert shown[0] == "0px" and chinese in shown[1]
    _uploader(page, "选择台账文件").set_input_files(str(path))
    page.get_by_text("读取 2 行").wait_for(timeout=30_000)
    page.get_by_role("combobox", name="经纬度坐标系").click()
    page.get_by_role("option", name="WGS84（GPS、天地图、奥维默认）").click()
    page.get_by_role("button", name="检查（不写入）").click()
    page.get_by_text("检查通过").wait_for(timeout=30_000)
    assert GeoPackageStore(STORE_PATH[0]).count("children") == before
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "import_checked.png"), full_page=True)
    page.get_by_role("button", name="确认导入").click()
    page.get_by_text("已导入：新增 2，更新 0，不变 0").wait_for(timeout=30_000)
    assert GeoPackageStore(STORE_PATH[0]).count("children") == before + 2
    records = _audit_rows("write_record", "director")
    assert len(records) >= 2 and rows[0][3] not in " ".join(records["detail"])  # masked
    page.get_by_role("button", name="检查（不写入）").click()
    page.get_by_text("检查通过").wait_for(timeout=30_000)
    metrics = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert metrics[:3] == ["0", "0", "2"]  # 新增, 更新, 不变
    assert page.external_requests == []


def test_a_file_of_the_wrong_kind_is_refused_in_chinese(app_url, page, tmp_path):
    """An old .xls ledger or a bare .shp is let through the uploader, so that the page says in
    Chinese what to do with it, rather than Streamlit's English "files are not allowed"."""
    (tmp_path / "台账.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    (tmp_path / "水域.shp").write_bytes(bytes(100))
    _login(page, app_url, "admin", ADMIN_PASSWORD)
    _open(page, "导入导出")
    _uploader(page, "选择台账文件").set_input_files(str(tmp_path / "台账.xls"))
    page.get_by_text("不支持旧版表格文件（.xls）").wait_for(timeout=30_000)
    page.get_by_role("tab", name="导入图层").click()
    _uploader(page, "Shapefile 压缩包").set_input_files(str(tmp_path / "水域.shp"))
    # The button of this tab, not the ledger tab's: by the panel that holds the uploader.
    panel = page.get_by_role("tabpanel").filter(has_text="Shapefile 压缩包")
    panel.get_by_role("button", name="检查（不写入）").click()
    page.get_by_text("一起压缩成 .zip").wait_for(timeout=30_000)
    assert page.get_by_text("files are not allowed").count() == 0
    # The 导出 tab: the file is made by its button, downloaded, and its download logged.
    page.get_by_role("tab", name="导出").click()
    page.get_by_role("button", name="生成文件").click()
    with page.expect_download(timeout=30_000) as download:
        page.get_by_role("button", name=re.compile(r"^下载 .*条）$")).click()
    assert download.value.suggested_filename.endswith(".xlsx")
    assert len(_audit_rows("export", "admin", layer="left_behind")) == 1
    assert page.external_requests == []


def test_streamlit_own_words_are_chinese(app_url, page, tmp_path):
    """Streamlit draws its tables' toolbar, tooltips and column menu, the sidebar toggle and the
    uploader's refusal of an unrelated file in English; app/static/zh_ui.js puts them in
    Chinese as they appear (hover, click), and leaves the hidden CSV download alone."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _login(page, app_url, "admin", ADMIN_PASSWORD)
    table = page.locator('[data-testid="stDataFrame"]').first
    table.hover()
    page.get_by_role("button", name="搜索").wait_for(timeout=10_000)
    labels = page.locator('[data-testid="stElementToolbar"] button').evaluate_all(
        "es => es.map(e => e.getAttribute('aria-label'))"
    )
    assert sorted(labels) == sorted(["显示/隐藏列", "Download as CSV", "搜索", "全屏"])
    assert not page.locator('button[aria-label="Download as CSV"]').is_visible()
    page.get_by_role("button", name="搜索").hover()
    tooltip = page.locator('[data-testid="stTooltipContent"]')
    tooltip.first.wait_for(timeout=10_000)
    assert tooltip.first.inner_text() == "搜索"
    page.get_by_role("button", name="显示/隐藏列").click()
    page.get_by_text("全选", exact=True).wait_for(timeout=10_000)
    page.keyboard.press("Escape")
    box = table.bounding_box()  # the first column's menu, from the dots at its header's end
    page.mouse.move(box["x"] + 150, box["y"] + 18)
    page.mouse.click(box["x"] + 220, box["y"] + 18)
    menu = page.locator('[data-testid="stDataFrameColumnMenu"]')
    menu.first.wait_for(timeout=10_000)
    words = menu.first.inner_text()
    assert "升序排列" in words and "隐藏此列" in words and "Sort" not in words, words
    page.keyboard.press("Escape")
    assert (
        page.locator('[data-testid="stSidebarCollapseButton"] button').get_attribute("aria-label")
        == "收起侧边栏"
    )
    (tmp_path / "说明.txt").write_text("not a ledger", encoding="utf-8")
    _open(page, "导入导出")
    _uploader(page, "选择台账文件").set_input_files(str(tmp_path / "说明.txt"))
    chip = page.locator('[data-testid="stFileChip"]')
    chip.wait_for(timeout=30_000)
    uploader = page.locator('[data-testid="stFileUploader"]').filter(has_text="选择台账文件")
    page.wait_for_function(
        "e => e.innerText.includes('不接受')", arg=uploader.element_handle(), timeout=10_000
    )
    text = uploader.inner_text()
    assert "不接受 text/plain 文件" in text and "错误：" in text, text
    assert "not allowed" not in text and "Error" not in text, text
    assert errors == [] and page.external_requests == []


def test_a_refused_patrol_sheet_leaves_the_other_tabs_working(app_url, page, tmp_path):
    """A file that is no workbook, dropped on the 巡查登记 tab, is refused there in Chinese; the
    完成情况 tab after it still shows its tables (a refusal used to stop the whole page)."""
    junk = tmp_path / "巡查单_坏.xlsx"
    junk.write_bytes(b"PK\x03\x04 not really a workbook")
    _login(page, app_url, "admin", ADMIN_PASSWORD)
    _open(page, "巡查")
    page.get_by_role("tab", name="巡查登记").click()
    _uploader(page, "或上传填好的巡查单").set_input_files(str(junk))
    page.get_by_role("button", name="检查并登记（全部正确才写入）").click()
    page.get_by_text("无法打开这个 Excel 文件").wait_for(timeout=30_000)
    page.get_by_role("tab", name="完成情况").click()
    page.get_by_text("天未巡查的水域").first.wait_for(timeout=30_000)
    assert page.get_by_text("报告缺失或损坏、尚未补齐的设备").first.is_visible()
    assert page.external_requests == []


def test_recording_a_session_changes_the_village_colour(app_url, page, demo_frames):
    """On the 安全教育 page an administrator records today's talk for a village that has held
    none; after saving, the map fills that village with the held colour (on time or late,
    depending on today's date against the campaign deadline)."""
    import datetime as dt

    from app.coverage_service import compute_coverage
    from geo.coverage import STATUS_COLORS

    today = dt.date.today()
    result = compute_coverage(GeoPackageStore(STORE_PATH[0]), today)
    todo = result.coverage[~result.coverage["status_code"].isin(["done", "late"])]
    assert len(todo), "the demo has villages without a talk"
    village = todo["village_name"].iloc[0]
    held = "done" if today <= result.campaign.deadline else "late"
    colour = STATUS_COLORS[held]
    _login(page, app_url, "admin", ADMIN_PASSWORD)
    _open(page, "安全教育")
    frame = _map_frame(page)
    frame.locator("path.leaflet-interactive").first.wait_for(timeout=30_000)

    def filled(frame) -> int:
        return frame.locator(f'path[fill="{colour}"]').count()

    before = filled(frame)
    page.get_by_text("尚未开展的村").first.wait_for(timeout=30_000)
    box = page.get_by_role("combobox", name="宣讲的村（社区）")
    box.scroll_into_view_if_needed()
    box.click()
    page.get_by_role("option", name=village, exact=True).click()
    page.get_by_role("button", name="保存宣讲记录").click()
    page.get_by_text("已保存").first.wait_for(timeout=30_000)
    deadline = time.time() + 30
    after = before
    while time.time() < deadline and after <= before:
        page.wait_for_timeout(500)
        after = filled(_map_frame(page))
    assert after == before + 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "education.png"), full_page=True)
    assert page.external_requests == []


def test_a_patrol_plan_shows_routes_on_the_map(app_url, page):
    """Generate a plan for 2 teams on the demo township and see both routes and every numbered
    stop on the (tile-free) map."""
    _login(page, app_url, "admin", ADMIN_PASSWORD)
    _open(page, "巡查")
    page.get_by_role("tab", name="巡查计划").click()
    page.get_by_role("button", name="生成计划").click()
    page.get_by_text("第1组路线").wait_for(timeout=60_000)
    deadline = time.time() + 60
    frame = None
    while time.time() < deadline:
        for f in page.frames:
            if "st_folium" in f.url and f.locator(".shouhu-stop").count():
                frame = f
        if frame is not None:
            break
        page.wait_for_timeout(500)
    assert frame is not None, "no route map"
    assert frame.locator(".shouhu-stop").count() == 18  # 3 teams x 6 stops (the defaults)
    assert frame.locator(".shouhu-base").count() == 3
    assert frame.locator("path.leaflet-interactive[stroke='#c62828']").count() >= 1
    # The view is on the routes: every stop and base in sight, spread over the map rather than
    # bunched in the corner of the township they lie in.
    frame.wait_for_timeout(1000)  # the fitBounds animation
    view = frame.locator(".leaflet-container").bounding_box()
    boxes = [frame.locator(".shouhu-stop, .shouhu-base").nth(i).bounding_box() for i in range(21)]
    xs, ys = [b["x"] for b in boxes], [b["y"] for b in boxes]
    assert view["x"] <= min(xs) and max(xs) <= view["x"] + view["width"]
    assert view["y"] <= min(ys) and max(ys) <= view["y"] + view["height"]
    spread = max((max(xs) - min(xs)) / view["width"], (max(ys) - min(ys)) / view["height"])
    assert spread > 0.5, spread
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "patrol_plan.png"), full_page=True)
    assert page.external_requests == []


def test_a_facility_sweep_opens_with_its_hazards_and_sheet(app_url, page, demo_frames):
    """The 隐患排查 page on the demo township: facilities on the map by progress, the first
    facility's hazards and checklist, and its printable checklist as a download."""
    _login(page, app_url, "admin", ADMIN_PASSWORD)
    _open(page, "隐患排查")
    page.get_by_text("排查清单").wait_for(timeout=60_000)
    frame = _map_frame(page)
    frame.locator("path.leaflet-interactive").first.wait_for(timeout=30_000)
    facilities = len(demo_frames["facilities"])
    assert frame.locator("path.leaflet-interactive[fill='#9e9e9e']").count() >= 1
    assert frame.locator("path.leaflet-interactive[stroke='#ffffff']").count() == facilities
    with page.expect_download(timeout=30_000) as download:
        page.get_by_role("button", name="下载本场所隐患排查表（可打印网页）").click()
    html = Path(download.value.path()).read_text(encoding="utf-8")
    first = demo_frames["facilities"].sort_values("facility_id")["name"].iloc[0]
    assert first in html and 'class="radius"' in html and "校舍及建筑物安全" in html
    # The empty deadline box reads 年/月/日, not Streamlit's "yyyy/mm/dd"; a typed year shows.
    due = page.locator('[data-testid="stDateInput"]').filter(has_text="整改期限")
    due.scroll_into_view_if_needed()
    parts = due.locator('[role="spinbutton"]')
    shown = parts.evaluate_all(
        "es => es.map(e => [getComputedStyle(e).fontSize, getComputedStyle(e, '::after').content])"
    )
    assert shown == [["0px", '"年"'], ["0px", '"月"'], ["0px", '"日"']]
    parts.first.click()
    page.keyboard.type("2026")
    assert parts.first.text_content() == "2026"
    assert parts.first.evaluate("e => getComputedStyle(e).fontSize") != "0px"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "sweep.png"), full_page=True)
    assert page.external_requests == []
