"""The filter lab in a real browser: upload through the file input, change the kernel and the
stride, see the figure change, hover, zoom both panels at once, download a PNG, a bad file,
a link that restores settings, and screenshots at 1920x1080 and 1280x720."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.e2e.harness import ROOT, screenshot, wait_for_app

pytestmark = pytest.mark.browser

FIGURE = ".st-key-lab-figure .js-plotly-plot"


def _token(page) -> str:
    return page.evaluate(
        f"() => {{ const g = document.querySelector('{FIGURE}');"
        " return g && g.layout && g.layout.meta ? g.layout.meta.token : ''; }")


def _wait_new_figure(page, old: str) -> str:
    page.wait_for_function(
        f"""(old) => {{ const g = document.querySelector('{FIGURE}');
              return g && g.layout && g.layout.meta && g.layout.meta.token !== old
                     && g.querySelector('.main-svg image'); }}""", arg=old)
    wait_for_app(page)
    return _token(page)


def _sent(page) -> int:
    return sum("websocket sent" in m for m in page.console_log)


def _wait_sent(page, before: int) -> bool:
    """Whether the browser sends the server a message within 10 s (more than ``before``); the
    waits let the page's events come in."""
    for _ in range(100):
        if _sent(page) > before:
            return True
        page.wait_for_timeout(100)
    return False


def _click_sent(page, control) -> None:
    """Click a control that reruns the app, and click again if the browser sent nothing to the
    server: under load a click on a control just drawn was seen to be lost (no message at all
    after it, in CI and in a loaded run here), the page then waiting for a figure that was never
    asked for."""
    for _ in range(3):
        before = _sent(page)
        control.click()
        if _wait_sent(page, before):
            return
    raise AssertionError("three clicks sent nothing to the server")


def _expand(page, key: str) -> None:
    """Open the expander with this key (its class, e.g. ``st-key-lab-layer_open``), clicking
    again if a click was lost (seen under load, like the clicks :func:`_click_sent` repeats)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    box = page.locator(f".{key}").first
    for _ in range(3):
        if box.locator("details[open]").count():
            return
        box.locator("summary").first.click()
        try:
            box.locator("details[open]").first.wait_for(timeout=10_000)
            return
        except PlaywrightTimeout:
            pass
    raise AssertionError(f"{key}: three clicks did not open it")


def _link(page) -> str:
    """Open the "Link to this exact configuration" popover and read the link, then close it."""
    page.locator(".st-key-lab-link-open button").first.click()
    code = page.locator(".st-key-lab-link code")
    code.wait_for()
    link = code.inner_text()
    sent = _sent(page)
    page.keyboard.press("Escape")
    code.wait_for(state="hidden")
    # closing it reruns the figures (its content is built only while it is open): let that
    # run finish, so that it does not redraw the figure under the test's next step
    _wait_sent(page, sent)
    wait_for_app(page)
    return link


def _open_layer(page) -> None:
    """Open the layer's controls (above the figure, collapsed to a one-line summary)."""
    stride = page.locator(".st-key-lab-stride")
    if not stride.is_visible():
        _expand(page, "st-key-lab-layer_open")
        stride.wait_for()


def _metric(page, label: str) -> str:
    """One of the three large figures above the output-size arithmetic."""
    m = page.locator(f'.st-key-lab-arith .lab-metric[data-label="{label}"] .lab-metric-value')
    return m.inner_text().strip()


def _open(page, url: str) -> None:
    page.goto(url)
    wait_for_app(page)
    page.wait_for_selector(f"{FIGURE} .main-svg image")
    wait_for_app(page)
    # the pictures are layout images, kept sharp when zoomed by the page's CSS
    rendering = page.evaluate(
        f"() => [...document.querySelectorAll('{FIGURE} .imagelayer image')]"
        ".map(i => getComputedStyle(i).imageRendering)")
    assert rendering == ["pixelated", "pixelated"]


def _sidebar(page):
    """The sidebar: the image's controls."""
    return page.locator('[data-testid="stSidebar"]')


def _open_kernel(page):
    """Open the kernel's controls (above the figure, collapsed to a one-line summary; built
    when opened: the page waits for the run that draws them to end)."""
    kernel = page.locator(".st-key-lab-kernel_open")
    preset = kernel.locator(".st-key-lab-k-preset")
    if not preset.is_visible():
        _expand(page, "st-key-lab-kernel_open")
        preset.wait_for()
        kernel.locator(".st-key-lab-k-bank").wait_for()  # the section's last control
        wait_for_app(page)
    return kernel


def _choose(page, select, typed: str, option: str) -> None:
    """Pick ``option`` in a select box by typing ``typed`` into it; clicked again when the
    list did not open (a click on a control just drawn was seen lost under load)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(3):
        select.click()
        try:
            page.get_by_role("listbox").first.wait_for(timeout=5_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    page.keyboard.type(typed)  # the list filters as one types
    page.get_by_role("option", name=option).click()


def _phone_photo(tmp: Path) -> Path:
    """A phone-like JPEG: stored sideways with EXIF orientation 6, 1600 x 1200 as stored."""
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:1200, 0:1600]
    rgb = np.stack([xx * 255 // 1600, yy * 255 // 1200, np.full_like(xx, 120)], -1)
    rgb[300:700, 400:900] = (250, 250, 250)
    rgb = np.clip(rgb + rng.normal(0, 6, rgb.shape), 0, 255).astype(np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp / "IMG_2041.jpg"
    Image.fromarray(rgb).save(path, "JPEG", quality=88, exif=exif)
    return path


def test_upload_change_kernel_and_stride_download(page, app_url, tmp_path):
    _open(page, app_url)
    assert page.locator('[data-testid="stException"]').count() == 0
    sidebar = _sidebar(page)
    sidebar.locator(".st-key-lab-src").get_by_text("Upload", exact=True).click()
    wait_for_app(page)
    old = _token(page)
    sidebar.locator('input[type="file"]').set_input_files(str(_phone_photo(tmp_path)))
    token = _wait_new_figure(page, old)
    assert token.startswith("upload:")
    # EXIF orientation 6: shown upright, 1200 wide and 1600 tall, computed at 1024 x 768 ...
    assert _metric(page, "Output H x W x C") == "1024 x 768 x 1"
    caption = page.locator('[data-testid="stCaptionContainer"]').filter(
        has_text="IMG_2041.jpg").first.inner_text()
    assert "downscaled from 1200 x 1600" in caption and "EXIF orientation 6" in caption
    screenshot(page, "filter_lab_upload_1920x1080")

    # the kernel: a preset from the grouped list
    kernel = _open_kernel(page)
    figure_before = page.evaluate(f"() => document.querySelector('{FIGURE}').layout.images[1].source")
    _choose(page, kernel.locator(".st-key-lab-k-preset"), "Laplacian (8",
            "Edges · Laplacian (8-neighbour)")
    token = _wait_new_figure(page, token)
    figure_after = page.evaluate(f"() => document.querySelector('{FIGURE}').layout.images[1].source")
    assert figure_after != figure_before  # the result's picture changed
    assert kernel.locator(".st-key-lab-k-text textarea").input_value().split() == (
        ["1", "1", "1", "1", "-8", "1", "1", "1", "1"])

    # the stride: "+" once, the output halves (TensorFlow-style SAME at stride 2)
    _open_layer(page)
    _click_sent(page, page.locator('.st-key-lab-stride [data-testid="stNumberInputStepUp"]'))
    token = _wait_new_figure(page, token)
    assert _metric(page, "Output H x W x C") == "512 x 384 x 1"
    assert "s=2" in page.url and "k=laplacian_8" in page.url
    link = _link(page)
    assert "s=2" in link and "k=laplacian_8" in link

    # hover over the result names an exact value (the plot areas measured on the screen: the
    # figure's height depends on its titles and notes)
    page.locator(FIGURE).scroll_into_view_if_needed()
    left, right = (page.locator(f"{FIGURE} .nsewdrag").nth(i).bounding_box() for i in (0, 1))
    page.mouse.move(right["x"] + right["width"] * 0.5, right["y"] + right["height"] * 0.5)
    hover = page.locator(".hoverlayer .hovertext").first
    hover.wait_for()
    # one label in each panel, at the same point: the input's pixel and the output's
    texts = page.locator(".hoverlayer .hovertext").all_text_contents()  # SVG text
    assert len(texts) == 2, texts
    assert "input row" in texts[0] + texts[1] and "output row" in texts[0] + texts[1]
    assert all("value =" in t for t in texts)

    # zoom by dragging on the left panel: the right one follows
    page.mouse.move(left["x"] + left["width"] * 0.2, left["y"] + left["height"] * 0.2)
    page.mouse.down()
    page.mouse.move(left["x"] + left["width"] * 0.5, left["y"] + left["height"] * 0.6, steps=6)
    page.mouse.up()
    page.wait_for_function(f"""() => {{ const l = document.querySelector('{FIGURE}')._fullLayout;
        return l.xaxis.range[1] - l.xaxis.range[0] < 500; }}""")
    ranges = page.evaluate(f"""() => {{ const l = document.querySelector('{FIGURE}')._fullLayout;
        return [l.xaxis.range, l.xaxis2.range, l.yaxis.range, l.yaxis2.range]; }}""")
    assert ranges[0] == ranges[1] and ranges[2] == ranges[3]
    assert ranges[0][1] - ranges[0][0] < 500  # zoomed in from ~770 columns
    screenshot(page, "filter_lab_zoomed_1920x1080")

    # a layer change redraws the same plot in place (Plotly.react): the zoom stays
    page.evaluate(f"() => {{ window.__labPlot = document.querySelector('{FIGURE}'); }}")
    _click_sent(page, page.locator('.st-key-lab-bias [data-testid="stNumberInputStepUp"]'))
    token = _wait_new_figure(page, token)
    same, after = page.evaluate(f"""() => {{ const g = document.querySelector('{FIGURE}');
        const l = g._fullLayout;
        return [g === window.__labPlot,
                [l.xaxis.range, l.xaxis2.range, l.yaxis.range, l.yaxis2.range]]; }}""")
    assert same, "the plot was rebuilt instead of updated"
    assert after == ranges

    # download the output as PNG: the mapping applied, at full resolution of the stage
    _expand(page, "st-key-lab-dl_open")  # the section is built when opened
    page.locator(".st-key-lab-dl-png button").scroll_into_view_if_needed()
    with page.expect_download() as info:
        page.locator(".st-key-lab-dl-png button").click()
    data = Path(info.value.path()).read_bytes()
    im = Image.open(io.BytesIO(data))
    assert im.format == "PNG" and im.size == (384, 512)
    assert page.locator('[data-testid="stException"]').count() == 0


def test_a_bad_file_shows_an_error_and_the_page_keeps_working(page, app_url, tmp_path):
    _open(page, app_url)
    bad = tmp_path / "holiday.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0" + b"this is not the photo you are looking for" * 50)
    sidebar = _sidebar(page)
    sidebar.locator(".st-key-lab-src").get_by_text("Upload", exact=True).click()
    wait_for_app(page)
    sidebar.locator('input[type="file"]').set_input_files(str(bad))
    error = page.locator('[data-testid="stAlertContentError"]').first
    error.wait_for()
    assert "holiday.jpg" in error.inner_text() and "Still showing Chelsea" in error.inner_text()
    assert page.locator('[data-testid="stException"]').count() == 0
    assert _metric(page, "Output H x W x C") == "300 x 451 x 1"
    token = _token(page)
    _open_layer(page)
    _click_sent(page, page.locator('.st-key-lab-stride [data-testid="stNumberInputStepUp"]'))
    _wait_new_figure(page, token)
    assert _metric(page, "Output H x W x C") == "150 x 226 x 1"
    screenshot(page, "filter_lab_bad_file_1920x1080")


def test_a_link_restores_the_settings_at_two_screen_sizes(page, app_url):
    query = ("?img=synthetic:checkerboard&res=256&colour=gray&k=sobel_x&bank=sobel_y&map=mag"
             "&pad=same&pm=replicate&act=relu&pool=max")
    _open(page, app_url + "/" + query)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert _metric(page, "Output H x W x C") == "128 x 128 x 2"
    token = _token(page)
    assert "synthetic:checkerboard@256" in token and "|mag|auto|" in token
    link = _link(page)
    for part in ("img=synthetic:checkerboard", "res=256", "bank=sobel_y", "map=mag",
                 "pm=replicate", "act=relu", "pool=max"):
        assert part in link and part in page.url.replace("%3A", ":")
    # large type for the lecture hall
    size = page.locator(".st-key-lab-arith .lab-metric-value").first.evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 30
    screenshot(page, "filter_lab_link_1920x1080")
    page.get_by_role("heading", name="Stage by stage").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    screenshot(page, "filter_lab_stages_1920x1080")

    page.set_viewport_size({"width": 1280, "height": 720})
    page.wait_for_timeout(800)
    page.locator(".st-key-lab-figure").scroll_into_view_if_needed()
    screenshot(page, "filter_lab_link_1280x720")
    page.get_by_role("heading", name="Stage by stage").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    screenshot(page, "filter_lab_stages_1280x720")
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1


def test_garbage_in_a_link_is_explained(page, app_url):
    _open(page, app_url + "/?s=zero&k=nope&pm=mirror")
    text = " ".join(page.locator('[data-testid="stAlertContentWarning"]').all_inner_texts())
    for name in ("`s`", "`k`", "`pm`"):
        assert name.strip("`") in text
    assert page.locator('[data-testid="stException"]').count() == 0
    assert _metric(page, "Output H x W x C") == "300 x 451 x 1"


def test_screenshots_of_the_default_page(page, app_url):
    _open(page, app_url)
    screenshot(page, "filter_lab_1920x1080")
    page.set_viewport_size({"width": 1280, "height": 720})
    page.wait_for_timeout(800)
    screenshot(page, "filter_lab_1280x720")
    assert Path(ROOT / "tests" / "e2e" / "artifacts" / "filter_lab_1280x720.png").exists()


def test_nothing_is_fetched_from_the_internet(page, app_url):
    """Every request of the page goes to the app itself: plotly.js from its static files, the
    icon from its media files (a material page icon was fetched from fonts.gstatic.com)."""
    outside = []
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith((app_url, "data:", "blob:")) else None)
    _open(page, app_url)
    _open_layer(page)
    token = _token(page)
    _click_sent(page, page.locator('.st-key-lab-bias [data-testid="stNumberInputStepUp"]'))
    _wait_new_figure(page, token)
    plotly_js = page.evaluate("() => [...document.scripts].map(s => s.src)"
                              ".filter(s => s.endsWith('/app/static/plotly.min.js'))")
    assert plotly_js == [f"{app_url}/app/static/plotly.min.js"]
    assert outside == []


def test_the_gallery_is_built_when_opened_and_a_click_shows_the_photo(page, app_url):
    _open(page, app_url)
    sidebar = _sidebar(page)
    pick = sidebar.locator(".st-key-lab-pick-photo-rocket button")
    assert pick.count() == 0  # closed: not sent to the browser at all
    sidebar.locator(".st-key-lab-gallery_open summary").click()
    pick.first.wait_for()
    # the gallery arrives element by element: wait for its last picture
    sidebar.locator(".st-key-lab-gallery img").nth(15).wait_for()
    assert sidebar.locator(".st-key-lab-gallery img").count() == 16
    token = _token(page)
    pick.first.click()
    assert _wait_new_figure(page, token).startswith("photo:rocket@")
    # the gallery stays open for the next pick
    assert sidebar.locator(".st-key-lab-gallery img").count() == 16


def test_hover_names_the_exact_numbers_of_both_panels(page, app_url):
    """The lecture notes' 6 x 6 image (10 | 0) with the vertical-edge kernel, no padding:
    every output row is 0 30 30 0, each output pixel drawn at the centre of its window.
    Hovering over input pixel (row 2, col 3) labels it (0, the dark half) and the output pixel
    whose window is centred there, (row 1, col 2): columns 2-4, 10 + 0 + 0 per row, 30."""
    _open(page, f"{app_url}/?img=synthetic:lecture_6x6&k=vertical_edge&pad=valid")
    # input pixel (row 2, col 3) as screen pixels of each panel
    points = page.evaluate(f"""() => {{
        const g = document.querySelector('{FIGURE}'), l = g._fullLayout;
        const box = g.getBoundingClientRect();
        const at = (xa, ya, x, y) => [box.left + xa._offset + xa.d2p(x),
                                      box.top + ya._offset + ya.d2p(y)];
        return [at(l.xaxis, l.yaxis, 3, 2), at(l.xaxis2, l.yaxis2, 3, 2)]; }}""")
    for x, y in points:  # over either panel: both labels
        page.mouse.move(x, y)
        page.locator(".hoverlayer .hovertext").first.wait_for()
        texts = sorted(page.locator(".hoverlayer .hovertext").all_text_contents())
        assert texts == ["input row 2, col 3value = 0", "output row 1, col 2value = 30"], texts
        page.mouse.move(5, 5)  # off the figure: the labels go
        page.locator(".hoverlayer .hovertext").first.wait_for(state="detached")


def test_the_kernel_table_and_the_grid_on_demand(page, app_url):
    _open(page, f"{app_url}/?k=gaussian_3x3")
    kernel = _open_kernel(page)
    assert "Gaussian blur" in kernel.locator("summary").first.inner_text()
    table = kernel.locator(".kernel-table")
    table.wait_for()
    assert table.inner_text().split() == ["1/16", "×", "1", "2", "1", "2", "4", "2",
                                          "1", "2", "1"]
    assert kernel.locator('[data-testid="stDataFrame"]').count() == 0
    _expand(page, "st-key-lab-k-grid_open")
    kernel.locator('[data-testid="stDataFrame"]').wait_for()
    table.wait_for(state="detached")
    # the kernel's text is unchanged
    assert kernel.locator(".st-key-lab-k-text textarea").input_value().split()[:2] == [
        "1/16", "*"]


def test_a_number_typed_into_the_grid_is_applied(page, app_url):
    """An edit in the grid reruns the kernel's controls and the figures: the text box and the
    figure follow the grid (the kernel applied is the kernel shown)."""
    _open(page, app_url)
    kernel = _open_kernel(page)
    _expand(page, "st-key-lab-k-grid_open")
    grid = kernel.locator('[data-testid="stDataFrame"]')
    grid.wait_for()
    assert kernel.locator("#glide-cell-2-0").inner_text() == "0"  # Sobel x: -1 0 1
    token = _token(page)
    box = None
    while box != grid.bounding_box():  # the expander's opening moves the grid: let it settle
        box = grid.bounding_box()
        page.wait_for_timeout(200)
    # columns of 53 px after the row numbers, a header of 36 px and rows of 38 px
    # (kernel_controls.kernel_grid): the middle of the first row; typing starts the cell's editor
    page.mouse.click(box["x"] + box["width"] - 53 * 2 + 26, box["y"] + 37 + 19)
    # the grid moves the focus to the selected cell (its accessible table's) a moment later
    page.wait_for_function("() => document.activeElement.id === 'glide-cell-2-0'")
    page.keyboard.type("5")
    page.locator("input.gdg-input").wait_for()  # the cell's editor, holding the 5
    assert page.locator("input.gdg-input").input_value() == "5"
    page.keyboard.press("Enter")
    _wait_new_figure(page, token)
    text = kernel.locator(".st-key-lab-k-text textarea").input_value()
    assert text.split("\n")[0].split() == ["-1", "5", "1"], text
    assert "kt=" in _link(page)  # and the link carries the edited kernel


def test_a_kernel_action_reaches_the_text_box_and_survives_the_next_change(page, app_url):
    """An action reruns only the kernel's editors and the figures (a keyed rerun): the text box
    must still show the new kernel, and the next change elsewhere (the sidebar's resolution)
    must keep it. With Streamlit 1.67 a callback's write into the text box's key did neither:
    the browser kept the old text and sent it back with the next change."""
    _open(page, f"{app_url}/?k=gaussian&ks=5")
    kernel = _open_kernel(page)
    token = _token(page)
    _click_sent(page, kernel.locator(".st-key-lab-k-do-random button").first)
    token = _wait_new_figure(page, token)
    kernel.get_by_text("Type or paste a kernel").click()
    box = kernel.locator(".st-key-lab-k-text textarea")
    box.wait_for()
    numbers = kernel.locator(".kernel-table").inner_text().split()
    assert box.input_value().split() == numbers and len(numbers) == 25
    _sidebar(page).locator(".st-key-lab-res").get_by_text("512 px", exact=True).click()
    after = _wait_new_figure(page, token)
    assert "@512|" in after
    assert after.split("|")[2] == token.split("|")[2]  # the same layer: the random kernel
    assert box.input_value().split() == numbers
    # a new size resets the sigma to that size's default (a callback's write, the same way)
    kernel.locator(".st-key-lab-k-size input[type=range]").press("ArrowRight")
    _wait_new_figure(page, after)
    sigma = kernel.locator(".st-key-lab-k-sigma input[type=range]")
    page.wait_for_function("(e) => e.getAttribute('aria-valuetext') !== '1.10'",
                           arg=sigma.element_handle())
    assert sigma.get_attribute("aria-valuetext") == "1.40"  # OpenCV's default for 7 x 7
    assert len(box.input_value().split("\n")) == 7


def test_a_layer_change_updates_only_the_stages_that_changed(page, app_url):
    """The stage strip is patched in place: after a bias change the input's picture is the same
    element (not decoded again), the result's picture a new one."""
    _open(page, f"{app_url}/?b=10")  # with a bias: a "+ bias" card, which the next one keeps
    _open_layer(page)
    cards = ".st-key-lab-stages .lab-strip .lab-card"
    page.locator(cards).first.wait_for()
    page.evaluate(f"""() => {{ const c = document.querySelectorAll('{cards} img');
        window.__first = c[0]; window.__last = c[c.length - 1]; }}""")
    token = _token(page)
    _click_sent(page, page.locator('.st-key-lab-bias [data-testid="stNumberInputStepUp"]'))
    _wait_new_figure(page, token)
    page.wait_for_function(f"""() => {{ const c = document.querySelectorAll('{cards} img');
        return c[c.length - 1] !== window.__last; }}""")
    kept = page.evaluate(f"() => document.querySelectorAll('{cards} img')[0] === window.__first")
    assert kept
    titles = page.locator(f"{cards} .lab-title").all_inner_texts()
    assert titles[0] == "Input" and titles[-1] == "+ bias"


def test_an_upload_leaves_the_server_once_decoded_and_keeps_showing(page, app_url, tmp_path):
    """The upload's bytes are released from Streamlit's uploaded-file manager as soon as the
    page has read them (``ui/uploads.py``); the uploader still names the file, and the photo
    stays through later changes."""
    import urllib.request

    _open(page, app_url)
    sidebar = _sidebar(page)
    sidebar.locator(".st-key-lab-src").get_by_text("Upload", exact=True).click()
    wait_for_app(page)
    old = _token(page)
    sidebar.locator('input[type="file"]').set_input_files(str(_phone_photo(tmp_path)))
    token = _wait_new_figure(page, old)
    assert token.startswith("upload:")
    with urllib.request.urlopen(app_url + "/_stcore/metrics", timeout=30) as r:
        metrics = r.read().decode()
    # Streamlit reports its uploaded-file manager's bytes only while it holds a file
    assert "UploadedFileManager" not in metrics, metrics

    # a later change (the colour mode reruns the whole page): the same photo, the name shown
    _click_sent(page, sidebar.locator(".st-key-lab-colour").get_by_text("Per channel",
                                                                        exact=True))
    token = _wait_new_figure(page, token)
    assert token.startswith("upload:") and "|channels|" in token
    assert sidebar.get_by_text("IMG_2041.jpg").count() >= 1
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlert"]').filter(has_text="no longer held").count() == 0
