"""The dashboard in a real browser: headless Chromium (Debian's) driven by Selenium,
against ``parley web``'s app served by uvicorn on 127.0.0.1 over the seeded arena.

Expected orders come from boards fitted independently from the server's database file,
never from the page itself. One server and one browser for the whole module; the test
that casts new votes runs last. Screenshots of every page land in test-artifacts/web/.
"""

from __future__ import annotations

import asyncio
import csv
import io
import time

import httpx
import pytest

from arena.leaderboard import Leaderboard, build_board
from arena.store import Store
from tests.web.conftest import screenshot
from tests.web.seed import MARKUP_QUESTION, TEAM_CHANNEL, VIEWER_TOKEN

By = pytest.importorskip("selenium.webdriver.common.by").By
Keys = pytest.importorskip("selenium.webdriver.common.keys").Keys
Select = pytest.importorskip("selenium.webdriver.support.ui").Select


def fitted(live_server, **options) -> Leaderboard:
    """The board the votes give, fitted here from the server's database (read-only)."""

    async def fit() -> Leaderboard:
        store = await Store.open(live_server.folder / "parley.db", read_only=True)
        try:
            return await build_board(store, **options)
        finally:
            await store.close()

    return asyncio.run(fit())


def table_cells(browser, table: str) -> list[list[str]]:
    """Every row's cell texts, read in one go (htmx may swap the table between reads)."""
    rows = browser.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).map(row =>"
        " Array.from(row.querySelectorAll('th, td')).map(cell => cell.innerText.trim()))",
        f"#table-{table} tr",
    )
    return [[cell.replace(" ▼", "").replace(" ▲", "") for cell in row] for row in rows]


def row_models(browser) -> list[str]:
    return [row[2].rstrip(" *") for row in table_cells(browser, "board")[1:]]


def wait_for(condition, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("the page did not change in time")


def test_nothing_shows_until_signed_in(browser, live_server) -> None:
    browser.get(live_server.url + "/models/atlas")
    assert "/login" in browser.current_url and "Sign in" in browser.title
    assert not browser.find_elements(By.ID, "table-board")
    screenshot(browser, "login")
    browser.find_element(By.ID, "token").send_keys("a-wrong-token")
    browser.find_element(By.ID, "sign-in").click()
    alert = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "[role=alert]"))
    assert "not right" in alert[0].text
    browser.find_element(By.ID, "token").send_keys(VIEWER_TOKEN)
    browser.find_element(By.ID, "sign-in").click()
    wait_for(lambda: browser.current_url.endswith("/models/atlas"))  # where it was going
    assert browser.find_element(By.TAG_NAME, "h1").text == "atlas"


def test_the_leaderboard_is_in_the_order_the_votes_give(signed_in, live_server) -> None:
    board = fitted(live_server, style=True)
    signed_in.get(live_server.url + "/")
    expected = [r.model for r in sorted(board.rows, key=lambda r: -r.score)]
    assert row_models(signed_in) == expected
    assert expected[0] == "cobalt"
    screenshot(signed_in, "leaderboard")


def test_a_header_sorts_and_says_so(signed_in, live_server) -> None:
    signed_in.get(live_server.url + "/")
    signed_in.find_element(By.ID, "sort-board-votes").click()
    wait_for(lambda: "board_sort=votes" in signed_in.current_url)
    header = signed_in.find_element(By.CSS_SELECTOR, "th[aria-sort]")
    assert header.get_attribute("aria-sort") == "descending" and "Votes" in header.text
    votes = [int(row[6].split()[0].replace(",", "")) for row in table_cells(signed_in, "board")[1:]]
    assert votes == sorted(votes, reverse=True)
    signed_in.find_element(By.ID, "sort-board-votes").click()
    wait_for(lambda: "board_dir=asc" in signed_in.current_url)
    header = signed_in.find_element(By.CSS_SELECTOR, "th[aria-sort]")
    assert header.get_attribute("aria-sort") == "ascending"
    votes = [int(row[6].split()[0].replace(",", "")) for row in table_cells(signed_in, "board")[1:]]
    assert votes == sorted(votes)


def test_the_channel_filter_shows_that_channels_board(signed_in, live_server) -> None:
    board = fitted(live_server, channel=TEAM_CHANNEL)
    signed_in.get(live_server.url + "/")
    Select(signed_in.find_element(By.ID, "channel")).select_by_value(TEAM_CHANNEL)
    signed_in.find_element(By.ID, "show").click()
    wait_for(lambda: f"channel={TEAM_CHANNEL}" in signed_in.current_url)
    rated = [r.model for r in sorted(board.rows, key=lambda r: -(r.score or -1e9))]
    assert row_models(signed_in) == rated + [r.model for r in board.unrated]
    assert row_models(signed_in)[:2] == ["dune", "bramble"]
    assert TEAM_CHANNEL in signed_in.find_element(By.TAG_NAME, "h1").text


def test_style_control_reorders_where_the_data_says(signed_in, live_server) -> None:
    board = fitted(live_server, style=True)
    plain = [r.model for r in sorted(board.rows, key=lambda r: -r.score)]
    styled = [r.model for r in sorted(board.rows, key=lambda r: -r.style_score)]
    assert plain != styled  # the seeded story: verbose cobalt first, then last
    signed_in.get(live_server.url + "/")
    assert row_models(signed_in) == plain
    signed_in.find_element(By.ID, "style").click()
    signed_in.find_element(By.ID, "show").click()
    wait_for(lambda: "style=1" in signed_in.current_url)
    assert row_models(signed_in) == styled
    header = signed_in.find_element(By.ID, "sort-board-score").text
    assert "style-controlled" in header
    screenshot(signed_in, "leaderboard-style-control")


def test_the_chart_and_heatmaps_draw_a_mark_per_model_and_pair(signed_in, live_server) -> None:
    rated = [r for r in fitted(live_server).rows if r.score is not None]
    signed_in.get(live_server.url + "/")
    points = signed_in.find_elements(By.CSS_SELECTOR, "#interval-chart circle.score")
    intervals = signed_in.find_elements(By.CSS_SELECTOR, "#interval-chart line.interval")
    assert len(points) == len(rated) == 4
    assert len(intervals) == sum(not r.provisional for r in rated)
    for heatmap in ("win-heatmap", "count-heatmap"):
        cells = signed_in.find_elements(By.CSS_SELECTOR, f"#{heatmap} rect.cell")
        assert len(cells) == len(rated) ** 2
        empty = signed_in.find_elements(By.CSS_SELECTOR, f"#{heatmap} rect.cell.empty")
        assert len(empty) == len(rated)  # the diagonal: a model against itself
    labels = signed_in.find_elements(By.CSS_SELECTOR, "#interval-chart .mark")
    order = [g.get_attribute("data-model") for g in labels]
    assert order == [r.model for r in sorted(rated, key=lambda r: -r.score)]


def test_markup_in_a_question_is_shown_as_text(signed_in, live_server) -> None:
    signed_in.get(live_server.url + "/questions")
    assert signed_in.execute_script("return typeof window.parleyPwned") == "undefined"
    scripts = signed_in.find_elements(By.TAG_NAME, "script")
    assert [s.get_attribute("src").rsplit("/", 1)[-1] for s in scripts] == ["htmx.min.js"]
    assert not signed_in.find_elements(By.CSS_SELECTOR, "#table-questions img")
    questions = [
        c.text for c in signed_in.find_elements(By.CSS_SELECTOR, "#table-questions td:nth-child(3)")
    ]
    assert MARKUP_QUESTION in questions  # as typed: <script>, *bold*, <@U0123>, <!channel>
    page = signed_in.find_element(By.ID, "table-questions").text
    assert '<img src=x onerror="window.parleyPwned = 2">' in page
    screenshot(signed_in, "questions")


def test_csv_download_matches_the_page(signed_in, live_server) -> None:
    signed_in.get(live_server.url + "/?style=1&board_sort=model&board_dir=asc")
    link = signed_in.find_element(By.ID, "csv-board").get_attribute("href")
    cookies = {c["name"]: c["value"] for c in signed_in.get_cookies()}
    download = httpx.get(link, cookies=cookies)
    assert download.status_code == 200
    assert list(csv.reader(io.StringIO(download.text))) == table_cells(signed_in, "board")


def test_the_leaderboard_works_from_the_keyboard_with_real_table_semantics(
    signed_in, live_server
) -> None:
    signed_in.get(live_server.url + "/")
    body = signed_in.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    focused = signed_in.switch_to.active_element
    assert focused.text == "Skip to content"
    focused.send_keys(Keys.ENTER)
    assert signed_in.switch_to.active_element.get_attribute("id") == "main"
    for _ in range(40):  # on through the options and the filter to the headers
        signed_in.switch_to.active_element.send_keys(Keys.TAB)
        if signed_in.switch_to.active_element.get_attribute("id") == "sort-board-model":
            break
    assert signed_in.switch_to.active_element.get_attribute("id") == "sort-board-model"
    signed_in.switch_to.active_element.send_keys(Keys.ENTER)
    wait_for(lambda: "board_sort=model" in signed_in.current_url)
    assert row_models(signed_in) == sorted(row_models(signed_in))
    table = signed_in.find_element(By.ID, "table-board")
    assert table.find_element(By.TAG_NAME, "caption").text
    headers = table.find_elements(By.CSS_SELECTOR, "thead th")
    assert headers and all(h.get_attribute("scope") == "col" for h in headers)
    rows = table.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert all(len(r.find_elements(By.CSS_SELECTOR, "th[scope=row]")) == 1 for r in rows)
    region = signed_in.find_element(By.CSS_SELECTOR, "[role=region][aria-labelledby=caption-board]")
    assert region.get_attribute("tabindex") == "0"  # a wide table scrolls from the keyboard
    assert signed_in.find_element(By.CSS_SELECTOR, "nav a[aria-current=page]").text == "Leaderboard"


@pytest.mark.parametrize(
    "path, name",
    [
        ("/models/atlas", "model"),
        ("/audits", "audits"),
        ("/questions/unanswered", "knowledge-gaps"),
        ("/knowledge", "knowledge"),
    ],
)
def test_every_page_renders_without_a_browser_error(signed_in, live_server, path, name) -> None:
    signed_in.get_log("browser")  # what earlier pages logged (a refused login) is theirs
    signed_in.get(live_server.url + path)
    assert signed_in.find_element(By.TAG_NAME, "h1").text
    severe = [e for e in signed_in.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []  # no script error, no blocked resource, no policy violation
    screenshot(signed_in, name)


def test_the_board_updates_itself_when_votes_arrive(signed_in, live_server) -> None:
    signed_in.get(live_server.url + "/?board_sort=model&board_dir=asc")
    signed_in.execute_script("window.notReloaded = true")
    before = table_cells(signed_in, "board")
    live_server.run(cast_votes(live_server, 40))
    after = wait_for(lambda: (cells := table_cells(signed_in, "board")) != before and cells)
    assert signed_in.execute_script("return window.notReloaded") is True  # htmx, no reload
    votes = {row[2].rstrip(" *"): row[6] for row in after[1:]}
    assert votes["atlas"] != {row[2].rstrip(" *"): row[6] for row in before[1:]}["atlas"]


async def cast_votes(live_server, votes: int) -> None:
    from arena.types import Answer

    store, service = live_server.seeded.store, live_server.seeded.service
    question = await store.record_question(
        platform="slack", channel=TEAM_CHANNEL, user="late", thread=None, text="Late?", hits=[]
    )
    left = await store.record_answer(question, Answer("atlas", text="Short."))
    right = await store.record_answer(question, Answer("cobalt", text="A longer answer."))
    battle = await store.record_battle(question, left, right)
    for n in range(votes):
        await service.vote(battle, f"late{n}", "a", platform="slack", channel=TEAM_CHANNEL)
