"""The bench's self-contained web page (index.html): built from results.json alone, checked as HTML here
and in a real headless Chromium driven through Selenium (Debian's chromium + chromium-driver; `make browser`)."""
from __future__ import annotations

import io
import json
import math
import os
import re
import statistics
from pathlib import Path

import pytest
from conftest import run_cli
from PIL import Image

from ganzoo.bench import BenchSpec, run_grid
from ganzoo.bench.page import write_page
from ganzoo.bench.svg_chart import Series, line_chart, nice_ticks

try:  # the dev extra; without it the browser tests skip (or fail under GANZOO_REQUIRE_BROWSER=1)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
except ImportError:
    webdriver = None

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
LOSSES = ("hinge", "non-saturating", "wgan-gp")
SEEDS = (0, 1, 2)


def _png(shade: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (20, 20), shade).save(buffer, format="PNG")
    return buffer.getvalue()


def _protocol(seed: int, generator: str | None) -> dict:
    protocol = {"feature_network": "inception-2015-12-05", "n_real": 2000, "n_generated": 500, "seed": seed,
                "extra": {"metrics": ["fid", "kid", "prdc"], "kid_subsets": 100}}
    return {**protocol, "generator": generator} if generator else protocol


def _result(i: int, loss: str, seed: int, generator: str | None, folder: Path) -> dict:
    """A cell's result with distinct figures per variant, seed and generator; wgan-gp seed 1 has a NaN FID and
    no variant has a density but hinge."""
    key = f"dcgan__{loss}__fashion-mnist__s{seed}"
    fid = (10.0, 40.0, 120.0)[i] + 1.5 * seed + (7.0 if generator == "raw" else 0.0)  # 1xx sorts before 4x as text
    final = {"step": 100, "wall_time_s": 10.0 + seed, "images_per_second": 500.0 + 10 * i + seed, "fid": fid,
             "kid_mean": fid / 1000, "kid_std": 0.001 * (seed + 1), "precision": 0.5 - 0.1 * i + 0.01 * seed}
    if loss == "wgan-gp" and seed == 1:
        final["fid"] = math.nan
    if loss == "hinge":
        final["density"] = 0.3 + 0.01 * seed
    curve = [{**final, "step": 50, "wall_time_s": 5.0 + seed, "fid": fid + 30}, dict(final)]
    protocol = {m: _protocol(seed, generator) for m in ("fid", "kid_mean", "kid_std", "precision", "density") if m in final}
    samples = "samples.png" if generator != "raw" else "samples-raw.png"
    (folder / "cells" / key).mkdir(parents=True, exist_ok=True)
    (folder / "cells" / key / samples).write_bytes(_png(40 * i + (20 if generator == "raw" else 0)))
    result = {"cell": {"arch": "dcgan", "loss": loss, "dataset": "fashion-mnist", "seed": seed}, "variant": f"dcgan/{loss}",
              "budget": {"steps": 100, "time_budget_s": None}, "batch_size": 64,
              "curve": [{**p, "protocol": protocol} for p in curve], "final": final, "protocol": protocol}
    if generator:
        result.update(generator=generator, folder=f"cells/{key}", samples=samples)
    return result


def make_bench(folder: Path, generators: tuple[str | None, ...] = ("ema", "raw")) -> dict:
    """A bench folder as `ganzoo bench` leaves it: results.json and the cells' sample grids."""
    results = [_result(i, loss, seed, g, folder) for i, loss in enumerate(LOSSES) for g in generators for seed in SEEDS]
    spec = {"archs": ["dcgan"], "losses": list(LOSSES), "datasets": ["fashion-mnist"], "seeds": list(SEEDS), "steps": 100,
            "time_budget_s": None, "batch_size": 64, "n_generated": 500, "n_real": 2000, "ema": 0.999}
    summary = {"spec": spec, "results": results, "refused": [{"cell": {"arch": "mlp", "loss": "hinge", "dataset": "fashion-mnist"},
                                                             "reason": "mlp needs points"}], "wall_time_s": 12.0}
    (folder / "results.json").write_text(json.dumps(summary))  # NaN as Python's json writes it, as the bench does
    return summary


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-12)


# --------------------------------------------------------------------------- without a browser


def test_page_is_one_small_file_that_names_no_remote_resource(tmp_path: Path) -> None:
    make_bench(tmp_path)
    html = write_page(tmp_path).read_text()
    assert len(html) < 2_000_000
    assert not re.search(r"""(src|href|action)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//|@import""", html)
    assert "default-src 'none'" in html  # the browser itself refuses any request the page might make
    assert html.count("data:image/png;base64,") == len(LOSSES) * 2  # one grid per variant and generator, side by side
    assert html.count("<svg") == 2 * 5  # step and wall time for FID, KID, precision, density, images/s


def test_old_results_without_generator_render_without_that_column(tmp_path: Path) -> None:
    make_bench(tmp_path, generators=(None,))
    html = write_page(tmp_path).read_text()
    assert 'data-col="generator"' not in html and "dashed: raw generator" not in html
    assert html.count("data:image/png;base64,") == len(LOSSES)  # found at cells/<key>/samples.png


def test_untrusted_text_is_escaped_and_files_outside_the_folder_are_not_read(tmp_path: Path) -> None:
    summary = make_bench(tmp_path / "bench", generators=("ema",))
    (tmp_path / "secret.png").write_bytes(_png(1))
    summary["results"][0]["variant"] = "<script>alert(1)</script>"
    summary["results"][0]["folder"] = "../"
    summary["results"][0]["samples"] = "secret.png"
    html = write_page(tmp_path / "bench", summary).read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("data:image/png;base64,") == len(LOSSES)  # not the file outside the bench folder


def test_bench_page_command_rebuilds_and_bad_folders_are_one_line(tmp_path: Path, capsys) -> None:
    make_bench(tmp_path)
    code, out, _ = run_cli(["bench-page", str(tmp_path)], capsys)
    assert code == 0 and str(tmp_path / "index.html") in out and (tmp_path / "index.html").is_file()
    code, _, err = run_cli(["bench-page", str(tmp_path / "nothing")], capsys)
    assert code == 1 and "has no results.json" in err and "ganzoo bench" in err and len(err.strip().splitlines()) == 1
    (tmp_path / "results.json").write_text('{"results": [')
    code, _, err = run_cli(["bench-page", str(tmp_path)], capsys)
    assert code == 1 and "not valid JSON" in err and len(err.strip().splitlines()) == 1
    (tmp_path / "results.json").write_text('{"results": [{"variant": "a/b"}]}')
    code, _, err = run_cli(["bench-page", str(tmp_path)], capsys)
    assert code == 1 and "not a ganzoo bench results.json" in err and len(err.strip().splitlines()) == 1


def test_a_bench_run_writes_its_page(tmp_path: Path) -> None:
    spec = BenchSpec(archs=["mlp"], losses=["hinge"], datasets=["toy-ring"], seeds=[0], steps=2, evals=1, batch_size=8,
                     arch_args={"g_hidden": "8", "d_hidden": "8"}, metrics=["toy"], n_generated=50, n_real=50, device="cpu")
    summary = run_grid(spec, tmp_path, progress=False)
    html = (tmp_path / "index.html").read_text()
    assert 'data-variant="mlp/hinge"' in html and "modes_captured" in html
    assert html.count('class="run"') == len(summary["results"])


def test_svg_chart_ticks_cover_the_data_and_nan_breaks_the_line() -> None:
    for low, high in ((0.0, 1172.0), (0.0137, 0.019), (-3.0, 250.0), (5.0, 5.0)):
        ticks = nice_ticks(low, high)
        assert ticks[0] <= low and ticks[-1] >= high and 2 <= len(ticks) <= 12
    svg = line_chart([Series("a", "#000", [(0, 1.0), (1, 2.0), (2, math.nan), (3, 3.0), (4, 4.0)])], "step", "fid")
    assert svg.count("<polyline") == 2 and svg.count("<circle") == 4
    assert "no finite" in line_chart([Series("a", "#000", [(0, math.nan)])], "step", "fid")


# --------------------------------------------------------------------------- in headless Chromium


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()] + (["selenium"] if webdriver is None else [])
    if missing:
        reason = f"the browser tests need {', '.join(missing)}: run `make browser` (and install the dev extra for selenium)"
        if os.environ.get("GANZOO_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + "; GANZOO_REQUIRE_BROWSER=1 makes this a failure")
        pytest.skip(reason)
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--window-size=1280,900",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})  # every request the page makes, from DevTools
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def page(browser, tmp_path_factory):
    """The page of a synthetic bench, open in the browser; yields (driver, summary)."""
    folder = tmp_path_factory.mktemp("bench")
    summary = make_bench(folder)
    browser.get_log("performance")  # drain what the browser did before (its own start page)
    browser.get(write_page(folder).as_uri())
    return browser, summary


def _column(driver, col: str) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('table.board tbody.variant')).map("
        "b => b.rows[0].querySelector('[data-col=\"' + arguments[0] + '\"]').dataset.sort)", col)


def test_page_renders_every_cell_and_figure_of_results_json(page) -> None:
    driver, summary = page
    assert driver.title == "ganzoo bench: fashion-mnist"
    runs = driver.execute_script(
        "return Array.from(document.querySelectorAll('tr.run')).map(tr => ({cell: tr.dataset.cell,"
        " variant: tr.closest('tbody.variant').dataset.variant, generator: tr.closest('tbody.variant').querySelector('[data-col=generator]').dataset.sort,"
        " values: Object.fromEntries(Array.from(tr.querySelectorAll('td[data-metric]')).map(td => [td.dataset.metric, td.dataset.value]))}))")
    shown = {(r["cell"], r["generator"]): r for r in runs}
    assert len(runs) == len(summary["results"]) == len(shown)
    for result in summary["results"]:
        c = result["cell"]
        row = shown[(f"dcgan__{c['loss']}__fashion-mnist__s{c['seed']}", result["generator"])]
        assert row["variant"] == result["variant"]
        numbers = {k: v for k, v in result["final"].items() if k not in ("step", "wall_time_s")}
        assert set(numbers) <= set(row["values"])  # every figure, the per-run spread kid_std included
        for key, value in numbers.items():
            assert _same(float(row["values"][key]), value), (result["variant"], key)

    # The main rows show mean ± std over the seeds with a finite value.
    mains = driver.execute_script(
        "return Array.from(document.querySelectorAll('tbody.variant')).map(b => ({variant: b.dataset.variant,"
        " generator: b.querySelector('[data-col=generator]').dataset.sort, sort: b.querySelector('[data-col=fid]').dataset.sort,"
        " text: b.querySelector('[data-col=fid]').textContent.trim()}))")
    assert len(mains) == len(LOSSES) * 2
    for main in mains:
        values = [r["final"]["fid"] for r in summary["results"] if r["variant"] == main["variant"] and r["generator"] == main["generator"]]
        finite = [v for v in values if not math.isnan(v)]
        assert math.isclose(float(main["sort"]), statistics.fmean(finite), rel_tol=1e-12)
        digits = 1 if statistics.fmean(finite) >= 100 else 2
        assert main["text"] == f"{statistics.fmean(finite):.{digits}f} ± {statistics.stdev(finite):.{digits}f}"
    # Direction arrows, the generator of every row, the sample grids (decoded), the curves.
    headers = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "table.board thead th")]
    assert "FID ↓" in headers and "Precision ↑" in headers and "generator" in headers
    assert {b.text for b in driver.find_elements(By.CSS_SELECTOR, "td[data-col=generator] .badge")} == {"ema", "raw"}
    sizes = driver.execute_script("return Array.from(document.images).map(i => i.complete && i.naturalWidth)")
    assert sizes == [20] * (len(LOSSES) * 2)
    visible = [e for e in driver.find_elements(By.CSS_SELECTOR, ".chartset") if e.is_displayed()]
    assert len(visible) == 1 and len(visible[0].find_elements(By.CSS_SELECTOR, "svg.chart")) == 2
    lines = sum(sum(not math.isnan(p["fid"]) for p in r["curve"]) > 1 for r in summary["results"])  # NaN breaks a line
    assert len(visible[0].find_elements(By.CSS_SELECTOR, "polyline")) == 2 * lines < 2 * len(summary["results"])


def test_clicking_a_header_sorts_numerically_both_ways(page) -> None:
    driver, _ = page
    header = driver.find_element(By.CSS_SELECTOR, "th[data-col=fid]")
    for expected in ("ascending", "descending"):
        header.find_element(By.TAG_NAME, "button").click()
        assert header.get_attribute("aria-sort") == expected
        values = [float(v) if v else math.nan for v in _column(driver, "fid")]
        finite = [v for v in values if not math.isnan(v)]
        assert finite == sorted(finite, reverse=expected == "descending") and len(set(finite)) == len(finite) > 2
        assert all(math.isnan(v) for v in values[len(finite):])  # rows without the figure stay last
    # Names sort as text.
    driver.find_element(By.CSS_SELECTOR, "th[data-col=variant] button").click()
    names = _column(driver, "variant")
    assert names == sorted(names) and names != list(reversed(names))
    driver.find_element(By.CSS_SELECTOR, "th[data-col=variant] button").click()
    assert _column(driver, "variant") == sorted(names, reverse=True)
    # A variant's details row travels with it.
    pairs = driver.execute_script(
        "return Array.from(document.querySelectorAll('tbody.variant')).map(b => [b.dataset.variant, b.rows.length,"
        " Array.from(b.querySelectorAll('tr.run')).map(tr => tr.dataset.cell)])")
    for variant, n_rows, cells in pairs:
        assert n_rows == 2 and cells and all(f"__{variant.split('/')[1]}__" in c for c in cells)


def test_protocol_on_hover_and_in_the_details_row(page) -> None:
    driver, _ = page
    body = driver.find_element(By.CSS_SELECTOR, "tbody.variant[data-variant='dcgan/hinge']:has(.badge.raw)")
    title = body.find_element(By.CSS_SELECTOR, "td[data-col=fid]").get_attribute("title")
    assert "lower is better" in title and "mean ± std over 3 seeds" in title and "generator: raw" in title
    assert "feature_network: inception-2015-12-05" in title and "seed: 0, 1, 2" in title and "extra.kid_subsets: 100" in title
    details = body.find_element(By.CSS_SELECTOR, "tr.details")
    assert not details.is_displayed()
    body.find_element(By.CSS_SELECTOR, "button.toggle").click()
    assert details.is_displayed() and "Protocol of FID, KID" in details.text and "n_generated" in details.text
    body.find_element(By.CSS_SELECTOR, "button.toggle").click()
    assert not details.is_displayed()
    nan_title = driver.find_element(By.CSS_SELECTOR, "tbody.variant[data-variant='dcgan/wgan-gp'] td[data-col=fid]").get_attribute("title")
    assert "2 with a finite value" in nan_title


def test_curve_picker_switches_the_plotted_figure(page) -> None:
    driver, _ = page
    driver.execute_script("const s = document.querySelector('select.metric-pick'); s.value = 'precision';"
                          " s.dispatchEvent(new Event('change'));")
    visible = [e.get_attribute("data-metric") for e in driver.find_elements(By.CSS_SELECTOR, ".chartset") if e.is_displayed()]
    assert visible == ["precision"]


def test_the_page_made_no_network_request(page) -> None:
    driver, _ = page
    resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert all(name.startswith("data:") for name in resources), resources
    events = [json.loads(entry["message"])["message"] for entry in driver.get_log("performance")]
    # Every request this page's document made (the browser's own start page also logs here: not ours).
    urls = [m["params"]["request"]["url"] for m in events
            if m["method"] == "Network.requestWillBeSent" and m["params"].get("documentURL") == driver.current_url]
    assert driver.current_url in urls and all(u.startswith(("file://", "data:")) for u in urls), urls
    assert not [e for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]  # nothing was even tried
