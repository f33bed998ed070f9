"""kg.viz pages in a real headless Chromium, driven by Selenium over file:// URLs.

Needs Debian's ``chromium`` and ``chromium-driver`` (``/usr/bin/chromium``,
``/usr/bin/chromedriver``; override with KG_CHROMIUM / KG_CHROMEDRIVER) and ``selenium``
from PyPI. Without them the tests are skipped with the reason, unless KG_REQUIRE_BROWSER=1
(set by CI), in which case they fail. Screenshots go to tests/artifacts/ (gitignored).
"""

from __future__ import annotations

import importlib.util
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from kg.viz import write_html

CHROMIUM = os.environ.get("KG_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("KG_CHROMEDRIVER", "/usr/bin/chromedriver")
REQUIRE_BROWSER = os.environ.get("KG_REQUIRE_BROWSER") == "1"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1400,900")
SETTLE_LIMIT_S = 20.0  # generous: speed targets belong to benchmarks, this catches hangs


def _unit_tests() -> ModuleType:
    """test_viz.py, for its Turtle fixtures and graph generator (loaded by path, so this works
    whatever pytest's import mode and whether or not tests/ is a package)."""
    spec = importlib.util.spec_from_file_location("kg_test_viz_fixtures",
                                                  Path(__file__).with_name("test_viz.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


shared = _unit_tests()


def _missing_browser() -> str | None:
    if importlib.util.find_spec("selenium") is None:
        return "selenium is not installed (pip install selenium)"
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.access(path, os.X_OK):
            return f"{path} is missing (apt-get install {package})"
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless Chromium for the module, with a fresh profile and the console log on."""
    reason = _missing_browser()
    if reason:
        if REQUIRE_BROWSER:
            pytest.fail(f"KG_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def open_page(driver: Any, path: Path) -> float:
    """Load a page and wait until its layout has settled; returns the seconds that took."""
    driver.get_log("browser")  # drop what earlier pages logged
    started = time.monotonic()
    driver.get(path.as_uri())
    while driver.execute_script("return window.__kgSettledMs === undefined"):
        if time.monotonic() - started > 60:
            raise AssertionError(f"{path.name} did not settle within 60 s")
        time.sleep(0.05)
    return time.monotonic() - started


def console_problems(driver: Any) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] in ("SEVERE", "WARNING")]


def counts(driver: Any) -> dict[str, int]:
    return driver.execute_script("return kgViz.visibleCounts()")


def node_id(driver: Any, name: str) -> int:
    return driver.execute_script(
        "return kgViz.data.nodes.find((n) => n.name === arguments[0]).id", name)


def _node_offset(driver: Any, name: str) -> tuple[Any, int, int]:
    """The canvas element and the node's offset from its centre (Selenium 4 offsets)."""
    x, y, width, height = driver.execute_script("""
        const net = kgViz.network;
        const p = net.canvasToDOM(net.getPosition(arguments[0]));
        const box = document.getElementById('kg-network').getBoundingClientRect();
        return [p.x, p.y, box.width, box.height];""", node_id(driver, name))
    canvas = driver.find_element("css selector", "#kg-network canvas")
    return canvas, int(x - width / 2), int(y - height / 2)


def click_node(driver: Any, name: str) -> None:
    """A real mouse click on the node's place in the canvas."""
    from selenium.webdriver.common.action_chains import ActionChains

    canvas, dx, dy = _node_offset(driver, name)
    ActionChains(driver).move_to_element_with_offset(canvas, dx, dy).click().perform()


def hover_node(driver: Any, name: str) -> str:
    """Move the mouse onto a node and return the tooltip's text once it shows."""
    from selenium.webdriver.common.action_chains import ActionChains

    canvas, dx, dy = _node_offset(driver, name)
    ActionChains(driver).move_to_element_with_offset(canvas, dx - 3, dy).move_to_element_with_offset(
        canvas, dx, dy).perform()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        text = driver.execute_script("""
            const tip = document.querySelector('div.vis-tooltip');
            return tip && tip.style.visibility !== 'hidden' ? tip.textContent : null;""")
        if text:
            return text
        time.sleep(0.1)
    raise AssertionError(f"no tooltip showed for {name!r}")


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Any]]:
    """The written test pages: name -> (path, VizStats)."""
    folder = tmp_path_factory.mktemp("viz-pages")
    made = {}
    loners = shared.PREFIXES + "\n".join(
        f'ent:person\\/p{i} a kg:Person ; rdfs:label "Person without facts {i}" .' for i in range(12))
    for name, graph in (("kg", shared.parse(shared.KG_TURTLE)),
                        ("xss", shared.parse(shared.xss_turtle())),
                        ("other", shared.parse(shared.OTHER_TURTLE)),
                        ("loners", shared.parse(loners)),
                        ("empty", shared.Graph())):
        path = folder / f"{name}.html"
        made[name] = (path, write_html(graph, path, title=f"kg test page: {name}"))
    return made


def screenshot(driver: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 10_000, "the screenshot is suspiciously small"
    return path


# --- tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["kg", "other", "loners", "empty"])
def test_viz_browser_page_loads_offline_with_matching_counts(browser: Any, pages, name: str) -> None:
    path, stats = pages[name]
    open_page(browser, path)
    assert console_problems(browser) == []
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert counts(browser) == {"nodes": stats.nodes_drawn, "edges": stats.edges_drawn,
                               "visibleNodes": stats.nodes_drawn, "visibleEdges": stats.edges_drawn}
    # The nodes are really drawn: vis-network knows a position for every one of them.
    positions = browser.execute_script("return kgViz.network.getPositions()")
    assert len(positions) == stats.nodes_drawn
    assert browser.find_element("id", "kg-title").text == f"kg test page: {name}"
    legend = browser.find_element("id", "kg-relations").text
    assert all(r in legend for r in browser.execute_script(
        "return kgViz.data.relations.map((r) => r.name)"))
    # Physics stopped itself once the layout had settled.
    assert browser.find_element("id", "kg-physics").text == "Unfreeze layout"
    screenshot(browser, f"viz-{name}.png")


def test_viz_browser_search_focuses_a_node(browser: Any, pages) -> None:
    open_page(browser, pages["kg"][0])
    box = browser.find_element("id", "kg-search")
    box.send_keys("a. schmidt")  # an alias, in other case
    browser.find_element("id", "kg-search-go").click()
    anna = node_id(browser, "Anna Schmidt")
    assert browser.execute_script("return kgViz.network.getSelectedNodes()") == [anna]
    assert "Found Anna Schmidt (Person)" in browser.find_element("id", "kg-search-result").text
    assert "Anna Schmidt" in browser.find_element("id", "kg-details").text
    time.sleep(0.8)  # the focus animation
    view, node = browser.execute_script(
        "return [kgViz.network.getViewPosition(), kgViz.network.getPosition(arguments[0])]", anna)
    assert abs(view["x"] - node["x"]) < 5 and abs(view["y"] - node["y"]) < 5
    box.clear()
    box.send_keys("nobody by that name\n")
    assert "No entity matches" in browser.find_element("id", "kg-search-result").text
    assert console_problems(browser) == []


def test_viz_browser_filters_hide_edges_and_nodes(browser: Any, pages) -> None:
    open_page(browser, pages["kg"][0])
    browser.find_element("css selector", 'input[data-relation="works_at"]').click()
    assert counts(browser)["visibleEdges"] == shared.KG_COUNTS["edges"] - 1
    assert browser.execute_script(
        "return kgViz.edges.get({filter: (e) => e.relation === 'works_at'}).every((e) => e.hidden)")
    browser.find_element("css selector", 'input[data-relation="works_at"]').click()
    assert counts(browser)["visibleEdges"] == shared.KG_COUNTS["edges"]
    # Hiding places hides Berlin and the hires_in fact that needs it.
    browser.find_element("css selector", 'input[data-type="Place"]').click()
    assert counts(browser) == {"nodes": 5, "edges": 4, "visibleNodes": 4, "visibleEdges": 3}
    browser.find_element("css selector", 'input[data-type="Place"]').click()
    # Minimum confidence 0.65 keeps works_at (0.85) and competes_with (0.7).
    browser.execute_script("""
        const s = document.getElementById('kg-min-confidence');
        s.value = '0.65'; s.dispatchEvent(new Event('input'));""")
    visible = browser.execute_script(
        "return kgViz.edges.get({filter: (e) => !e.hidden}).map((e) => e.relation).sort()")
    assert visible == ["competes_with", "works_at"]
    assert browser.find_element("id", "kg-min-confidence-value").text == "0.65"
    browser.find_element("id", "kg-rel-none").click()
    assert counts(browser)["visibleEdges"] == 0
    assert console_problems(browser) == []


def test_viz_browser_click_highlights_the_neighbourhood(browser: Any, pages) -> None:
    open_page(browser, pages["kg"][0])
    click_node(browser, "Berlin")
    dimmed = browser.execute_script("""
        return kgViz.nodes.get({filter: (n) => n.color.background === '#e4e4e4'})
            .map((n) => n.name).sort()""")
    assert dimmed == ["Anna Schmidt", "ByteDance", "Snap"]  # Berlin and TikTok stay lit
    details = browser.find_element("id", "kg-details").text
    assert "Berlin" in details and "Place" in details and "TikTok wächst in Berlin" in details
    # A click on empty canvas lights everything again.
    from selenium.webdriver.common.action_chains import ActionChains

    canvas = browser.find_element("css selector", "#kg-network canvas")
    ActionChains(browser).move_to_element_with_offset(canvas, -500, -300).click().perform()
    assert browser.execute_script(
        "return kgViz.nodes.get({filter: (n) => n.color.background === '#e4e4e4'}).length") == 0


def test_viz_browser_tooltips_show_type_aliases_and_articles(browser: Any, pages) -> None:
    open_page(browser, pages["kg"][0])
    text = hover_node(browser, "Anna Schmidt")
    assert "Person" in text and "A. Schmidt" in text and "TikTok wächst in Berlin" in text
    edge_tip = browser.execute_script("""
        const e = kgViz.data.edges.find((e) => e.relation === 'works_at');
        return e.title.textContent;""")
    for part in ("works_at", "0.85", "Head of Sales", "Chefin bei TikTok", "de.works_at.chef_bei",
                 "TikTok wächst in Berlin", "https://news.example.com/tiktok-berlin"):
        assert part in edge_tip


def test_viz_browser_physics_button_toggles(browser: Any, pages) -> None:
    open_page(browser, pages["kg"][0])
    button = browser.find_element("id", "kg-physics")
    assert button.get_attribute("aria-pressed") == "true"
    button.click()
    assert button.text == "Freeze layout"
    assert browser.execute_script("return kgViz.network.physics.physicsEnabled") is True
    button.click()
    assert button.text == "Unfreeze layout"
    assert browser.execute_script("return kgViz.network.physics.physicsEnabled") is False


def test_viz_browser_xss_probes_stay_inert(browser: Any, pages) -> None:
    open_page(browser, pages["xss"][0])
    # Every probe is drawn, hovered, clicked and searched; none may run.
    names = browser.execute_script("return kgViz.data.nodes.map((n) => n.name)")
    assert sorted(names) == sorted(shared.XSS_NAMES)
    tip = hover_node(browser, shared.XSS_NAMES[1])
    assert shared.XSS_NAMES[1] in tip
    click_node(browser, shared.XSS_NAMES[0])
    assert shared.XSS_NAMES[0] in browser.find_element("id", "kg-details").text
    browser.execute_script("""
        const e = kgViz.data.edges[0];
        kgViz.network.selectEdges([e.id]);
        kgViz.network.body.emitter.emit('click', {nodes: [], edges: [e.id]});""")
    details = browser.find_element("id", "kg-details")
    assert shared.XSS_NAMES[0] + " said " + shared.XSS_NAMES[5] in details.text
    # The article's "javascript:" URL is shown as text and never becomes a link.
    assert "javascript:window.__pwned=5" in details.text
    assert details.find_elements("css selector", "a") == []
    box = browser.find_element("id", "kg-search")
    box.send_keys(shared.XSS_NAMES[5] + "\n")
    assert shared.XSS_NAMES[5] in browser.find_element("id", "kg-search-result").text
    time.sleep(0.5)
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    assert browser.execute_script("return document.querySelectorAll('img, svg, iframe').length") == 0
    assert browser.execute_script("return document.scripts.length") == 3
    assert console_problems(browser) == []
    screenshot(browser, "viz-xss.png")


def test_viz_browser_big_graph_settles(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.keys import Keys

    path = tmp_path / "big.html"
    stats = write_html(shared.make_big_graph(), path, title="2,000 entities, 5,000 facts")
    seconds = open_page(browser, path)
    page_ms = browser.execute_script("return window.__kgSettledMs")
    assert seconds < SETTLE_LIMIT_S, f"the big graph took {seconds:.1f} s to settle"
    assert counts(browser) == {"nodes": 2000, "edges": 5000, "visibleNodes": 2000,
                               "visibleEdges": 5000}
    assert stats.nodes_drawn == 2000 and stats.edges_drawn == 5000
    assert console_problems(browser) == []
    # Still responsive: a search (with its neighbourhood highlight) and a relation filter.
    search_ms = browser.execute_script("""
        const t = performance.now();
        document.getElementById('kg-search').value = 'Organization 0';
        document.getElementById('kg-search-form').requestSubmit();
        return performance.now() - t;""")
    assert "Found Organization 0" in browser.find_element("id", "kg-search-result").text
    filter_ms = browser.execute_script("""
        const t = performance.now();
        document.querySelector('input[data-relation="works_at"]').click();
        return performance.now() - t;""")
    assert counts(browser)["visibleEdges"] < 5000
    assert search_ms < 5000 and filter_ms < 5000, (search_ms, filter_ms)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "viz-big-timing.json").write_text(json.dumps({
        "wall_seconds_to_settled": round(seconds, 2),
        "page_ms_to_settled": page_ms,
        "timings_ms": browser.execute_script("return kgViz.timings"),
        "search_and_highlight_ms": search_ms,
        "relation_filter_ms": filter_ms,
    }, indent=2), encoding="utf-8")
    browser.find_element("css selector", 'input[data-relation="works_at"]').click()
    browser.find_element("id", "kg-search").clear()
    browser.find_element("tag name", "body").send_keys(Keys.ESCAPE)
    assert browser.execute_script("return kgViz.network.getSelectedNodes()") == []
    browser.execute_script("kgViz.network.fit();")
    screenshot(browser, "viz-big.png")


def test_viz_browser_max_nodes_page_says_what_was_left_out(browser: Any, tmp_path: Path) -> None:
    path = tmp_path / "cut.html"
    stats = write_html(shared.make_big_graph(n_nodes=400, n_edges=800, n_articles=20), path,
                       max_nodes=50)
    open_page(browser, path)
    note = browser.find_element("id", "kg-left-out")
    assert note.is_displayed()
    assert f"left out: {stats.nodes_left_out:,} entities" in note.text
    assert counts(browser)["nodes"] == 50
    assert console_problems(browser) == []
