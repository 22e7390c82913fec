"""End to end: `streamlit run app.py` on the demo database, driven in headless Chromium.

Screenshots of every view are saved in the pytest tmp dir (the path is printed), so a
person can look at what users see.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
START_TIMEOUT = 90
VIEW_TIMEOUT = 120
BUILD_TIMEOUT = 600  # an upload reads, embeds and groups: minutes on a busy 2-core machine

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip(
        f"Chromium eller ChromeDriver saknas ({CHROMIUM}, {CHROMEDRIVER}); installera med `make browser-deps`.",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402 - only when a browser exists
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(demo_db, tmp_path_factory):
    """The explorer as users start it, on a free localhost port, on its own copy of the demo database."""
    port = free_port()
    folder = tmp_path_factory.mktemp("streamlit")
    log_path = folder / "server.log"
    with sqlite3.connect(demo_db) as source, sqlite3.connect(folder / "demo.db") as target:
        source.backup(target)
    demo_db = folder / "demo.db"
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
        "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.maxUploadSize", "50",
        "--", "--db", str(demo_db),
    ]  # fmt: skip
    env = os.environ | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("SYSTEMFEL_DB", None)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                    if response.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"streamlit startade inte: {log_path.read_text(errors='replace')[-2000:]}")
            time.sleep(0.5)
        yield base
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
        "--no-first-run", "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
        "--window-size=1440,1100", "--disable-dev-shm-usage", "--lang=sv-SE",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(VIEW_TIMEOUT)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def screenshots() -> Path:
    """Kept after the run (artifacts/ is not tracked) so a person can look at what the browser saw."""
    folder = Path(os.environ.get("SYSTEMFEL_SCREENSHOTS", Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def body_text(driver) -> str:
    return driver.find_element(By.TAG_NAME, "body").text


def wait_until_idle(driver, *expected: str, timeout: float = VIEW_TIMEOUT) -> str:
    """Wait for the texts, then until the script has finished and the page stops changing."""
    try:
        WebDriverWait(driver, timeout, poll_frequency=0.5).until(lambda d: all(t in body_text(d) for t in expected))
    except TimeoutException:
        pytest.fail(f"{expected} not shown within {timeout} s; the page says: {body_text(driver)[:2500]}")
    previous = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"] button')
        text = body_text(driver)
        if not running and text == previous:
            return text
        previous = text
        time.sleep(0.7)
    return body_text(driver)


def open_view(driver, base: str, slug: str, *expected: str) -> str:
    driver.get(f"{base}/?vy={slug}")
    text = wait_until_idle(driver, *expected)
    assert "Traceback" not in text
    assert not driver.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]'), text[:2000]
    return text


def test_overview(server, browser, screenshots):
    text = open_view(browser, server, "oversikt", "Översikt", "Rapporter", "Största teman", "Återkommande systemfel")
    assert "Excel" in text and "CSV" in text
    assert "Deploy" not in text, "the local tool shows no deploy button"
    assert browser.find_elements(By.CSS_SELECTOR, '[data-testid="stDataFrame"]')
    assert browser.find_elements(By.CSS_SELECTOR, ".js-plotly-plot")
    browser.save_screenshot(str(screenshots / "1-oversikt.png"))


def test_a_theme_leads_to_its_recurring_issues_and_their_quotes(server, browser, screenshots):
    text = open_view(browser, server, "teman", "Teman", "Återkommande systemfel i temat")
    buttons = browser.find_elements(By.XPATH, "//button[.//p[text()='Öppna']]")
    assert buttons, "the chosen theme lists its recurring issues"
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", buttons[0])
    buttons[0].click()
    text = wait_until_idle(browser, "Påståenden per organisation och år", "Sök liknande fall")
    assert "Traceback" not in text
    assert not browser.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]'), text[:2000]
    _open_first_report_block(browser)
    text = wait_until_idle(browser, ", s. ")  # each quote names its report and page
    browser.save_screenshot(str(screenshots / "2b-tema-till-systemfel.png"))


def _open_first_report_block(driver) -> None:
    """The quotes of an issue spanning many reports sit in folded blocks, one per report."""
    summary = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stExpander"] details:not([open]) summary')
    quotes = [s for s in summary if re.search(r"\(\d+\)$", s.text.strip())]
    if quotes:
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", quotes[0])
        quotes[0].click()


def test_the_recurring_view_ranks_and_opens_an_issue(server, browser, screenshots):
    text = open_view(browser, server, "aterkommande", "Återkommande systemfel", "Öppna systemfel",
                     "Påståenden per organisation och år")  # fmt: skip
    assert "Påståenden utan grupp" in text and "återkommande" in text
    assert browser.find_elements(By.CSS_SELECTOR, '[data-testid="stDataFrame"]')
    _open_first_report_block(browser)
    text = wait_until_idle(browser, ", s. ")
    assert "Sök liknande fall" in text and "Flytta ut ur systemfelet" in text
    browser.save_screenshot(str(screenshots / "2c-aterkommande.png"))


def test_themes_map_click_shows_the_passage(server, browser, screenshots):
    text = open_view(browser, server, "teman", "Teman", "Belägg", "Karta över bristerna")
    assert ", s. " in text
    points = browser.find_elements(By.CSS_SELECTOR, ".js-plotly-plot .scatterlayer .points path")
    assert len(points) > 20, "the map shows the deficiency passages"
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", points[0])
    cards_before = text.count(", s. ")
    map_plot = browser.find_elements(By.CSS_SELECTOR, ".js-plotly-plot")[-1]
    hover = map_plot.find_element(By.CSS_SELECTOR, ".nsewdrag")
    # plotly listens on its drag layer: click exactly where the first point is drawn
    box = browser.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2];", points[0])
    origin = browser.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2];", hover)
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).move_to_element_with_offset(hover, int(box[0] - origin[0]), int(box[1] - origin[1])).click().perform()
    WebDriverWait(browser, VIEW_TIMEOUT).until(lambda d: body_text(d).count(", s. ") > cards_before)
    wait_until_idle(browser)
    browser.save_screenshot(str(screenshots / "2-teman.png"))


def test_search_marks_the_words_and_offers_similar_cases(server, browser, screenshots):
    open_view(browser, server, "sok", "Sök liknande fall", "Beskriv fallet")
    field = browser.find_element(By.CSS_SELECTOR, 'input[aria-label="Beskriv fallet"]')
    field.send_keys("lång väntan på utredning i psykiatrin", Keys.ENTER)
    text = wait_until_idle(browser, "Liknande fall", ", s. ")
    marks = [m.text.lower() for m in browser.find_elements(By.TAG_NAME, "mark")]
    assert marks and any(m.startswith(("vänt", "utredning", "psykiatri")) for m in marks), marks
    assert "<mark>" not in text, "highlighting is rendered, not shown as code"
    browser.save_screenshot(str(screenshots / "3-sok.png"))
    browser.find_element(By.XPATH, "//button[.//p[text()='Liknande fall']]").click()
    wait_until_idle(browser, "Visar fall som liknar detta stycke", "Tillbaka till sökningen")
    browser.save_screenshot(str(screenshots / "3b-liknande.png"))


def test_trends(server, browser, screenshots):
    text = open_view(browser, server, "trender", "Trender", "Andel av rapportens brister per tema", "Siffror som rapporterna själva anger")
    assert "Förändring inom PO Värmland: 2021 → 2024" in text and "nationell översikt" in text
    assert browser.find_elements(By.CSS_SELECTOR, ".js-plotly-plot")
    browser.save_screenshot(str(screenshots / "4-trender.png"))


def test_document(server, browser, screenshots):
    text = open_view(browser, server, "dokument", "Dokument", "Stycken i läsordning", "Lägg till rapporter (PDF)")
    assert "Brist" in text and "Bakgrund" in text and "Rätta" in text
    assert browser.find_elements(By.CSS_SELECTOR, '[data-testid="stFileUploader"]')
    browser.save_screenshot(str(screenshots / "5-dokument.png"))


def test_upload_through_the_browser(server, browser, screenshots, tmp_path):
    from tests.pdfgen import simple_pdf

    pdf = simple_pdf(
        tmp_path / "ny rapport.pdf",
        ["Klienten nekades ekonomiskt bistånd trots att Försäkringskassan ännu inte fattat beslut om sjukpenning, "
         "och fick ingen vägledning om hur ett överklagande går till."],
        title="Brister och systemfel 2023", author="PO Provkommun",
    )  # fmt: skip
    open_view(browser, server, "dokument", "Lägg till rapporter (PDF)")
    browser.find_element(By.XPATH, "//summary[.//p[text()='Lägg till rapporter (PDF)']]").click()
    browser.find_element(By.CSS_SELECTOR, '[data-testid="stFileUploader"] input[type="file"]').send_keys(str(pdf))
    WebDriverWait(browser, VIEW_TIMEOUT).until(lambda d: "Läs in filerna" in body_text(d))
    browser.find_element(By.XPATH, "//button[.//p[text()='Läs in filerna']]").click()
    text = wait_until_idle(browser, "fil(er) klara", timeout=BUILD_TIMEOUT)
    assert "ny rapport.pdf" in text
    success = browser.find_element(By.CSS_SELECTOR, '[data-testid="stAlertContentSuccess"]')
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", success)
    browser.save_screenshot(str(screenshots / "6-uppladdning.png"))


# ------------------------------------------------- issue 18: a research instrument
def search_for(driver, base: str, query: str, *expected: str) -> str:
    open_view(driver, base, "sok", "Sök liknande fall", "Beskriv fallet")
    field = driver.find_element(By.CSS_SELECTOR, 'input[aria-label="Beskriv fallet"]')
    field.send_keys(query, Keys.ENTER)
    return wait_until_idle(driver, *expected)


def in_viewport(driver, element) -> bool:
    return driver.execute_script(
        "const r = arguments[0].getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight;", element
    )


def test_nonsense_shows_no_hits_message(server, browser, screenshots):
    text = search_for(browser, server, "fotbollsmatch i Qatar", "Inga träffar som liknar detta", "Närmaste teman")
    assert ", s. " not in text, "no passage is shown for a query the reports have no answer to"
    browser.save_screenshot(str(screenshots / "7-inga-traffar.png"))


def test_search_shows_bands_and_matched_words(server, browser, screenshots):
    search_for(browser, server, "Min klient har inget BankID och kan inte logga in hos Försäkringskassan",
                      "Stark träff", "Matchade ord")  # fmt: skip
    marks = {m.text.lower() for m in browser.find_elements(By.TAG_NAME, "mark")}
    assert any("bank" in m for m in marks), marks
    assert not marks & {"hos", "klienten", "inte"}, marks
    browser.save_screenshot(str(screenshots / "8-sok-relevans.png"))


def choose_in_multiselect(driver, label: str, option: str) -> None:
    box = driver.find_element(By.XPATH, f"//div[@data-testid='stMultiSelect'][.//p[text()='{label}']]//input")
    box.click()
    box.send_keys(option)
    WebDriverWait(driver, VIEW_TIMEOUT).until(lambda d: d.find_elements(By.CSS_SELECTOR, '[role="option"]'))
    box.send_keys(Keys.ENTER)


def test_filters_alone_browse_and_widgets_speak_swedish(server, browser, screenshots):
    open_view(browser, server, "sok", "Sök liknande fall", "Filter")
    browser.find_element(By.XPATH, "//summary[.//p[text()='Filter']]").click()
    text = wait_until_idle(browser, "Organisation", "Visa även goda exempel")
    assert "Välj …" in browser.page_source and "Choose" not in browser.page_source, "multiselect placeholders are Swedish"
    box = browser.find_element(By.XPATH, "//div[@data-testid='stMultiSelect'][.//p[text()='Organisation']]//input")
    box.click()
    WebDriverWait(browser, VIEW_TIMEOUT).until(lambda d: d.find_elements(By.CSS_SELECTOR, '[role="option"]'))
    options = [o.text for o in browser.find_elements(By.CSS_SELECTOR, '[role="option"]')]
    assert "PO Värmland" in options and not any("Select" in o for o in options), options
    box.send_keys(Keys.ESCAPE)
    choose_in_multiselect(browser, "Organisation", "PO Värmland")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    text = wait_until_idle(browser, "stycken matchar filtren")
    assert "Choose an option" not in text
    sources = [line for line in text.splitlines() if ", s. " in line]
    assert sources and all(line.startswith("PO Värmland") for line in sources), sources[:3]
    assert sources[0].startswith("PO Värmland 2024"), "newest first"
    browser.save_screenshot(str(screenshots / "9-bladdra.png"))


def test_counts_agree_between_overview_and_themes(server, browser, screenshots):
    open_view(browser, server, "oversikt", "Största teman")
    bars = browser.find_elements(By.CSS_SELECTOR, ".js-plotly-plot .barlayer .bartext")
    ticks = browser.find_elements(By.CSS_SELECTOR, ".js-plotly-plot .yaxislayer-above .ytick text")
    values = [int(b.text) for b in bars]
    names = [t.text for t in ticks]
    assert values and len(values) == len(names)
    # plotly draws the largest bar at the top: the last category and the largest value
    top_name, top_value = names[-1], max(values)
    text = open_view(browser, server, "teman", "Teman", "Belägg")
    assert f"{top_name}: {top_value} brister med temat som huvudtema" in text, (top_name, top_value)


def test_correction_from_the_card_is_confirmed_where_the_user_looks(server, browser, screenshots):
    # the link names a demo report: another test may have uploaded a short one that sorts first
    browser.get(f"{server}/?vy=dokument&rapport=po-varmland-2021.pdf")
    text = wait_until_idle(browser, "Stycken i läsordning")
    assert "Traceback" not in text
    shown = int(re.search(r"Stycken i läsordning \((\d+)\)", text).group(1))
    assert shown >= 20, "the linked demo report is open, not an uploaded one-passage report"
    buttons = browser.find_elements(By.XPATH, "//button[.//p[text()='Rätta']]")
    assert shown >= 1 and len(buttons) >= shown, ("every passage card has its own Rätta button", shown, len(buttons))
    button = buttons[4]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()
    WebDriverWait(browser, VIEW_TIMEOUT).until(lambda d: "Spara rättelse" in body_text(d))
    wait_until_idle(browser)
    kind_box = browser.find_element(By.XPATH, "//div[@data-testid='stSelectbox'][.//p[text()='Typ']]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", kind_box)
    kind_box.click()
    # the demo reports have no good examples at the top of a report: a real change of kind
    option = "//*[@role='option'][contains(., 'Gott exempel')]"
    WebDriverWait(browser, VIEW_TIMEOUT).until(lambda d: d.find_elements(By.XPATH, option))
    browser.find_element(By.XPATH, option).click()
    wait_until_idle(browser)
    save = browser.find_element(By.XPATH, "//button[.//p[text()='Spara rättelse']]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", save)
    save.click()
    wait_until_idle(browser, "Rättelsen är sparad")
    success = browser.find_element(By.CSS_SELECTOR, '[data-testid="stAlertContentSuccess"]')
    assert in_viewport(browser, success), "the confirmation is shown where the user is looking"
    assert "Gott exempel" in success.text
    browser.save_screenshot(str(screenshots / "10-rattelse.png"))
