"""Fixtures for the dashboard: a seeded server in a thread and a headless Chromium per
module (the browser tests), and the app over a seeded service in the test's own loop."""

from __future__ import annotations

import re
import time

import httpx
import pytest
import pytest_asyncio

from bot.config import Settings
from bot.web import create_app
from tests.web.browser import ARTIFACTS, chromium_binary, open_browser
from tests.web.seed import ADMIN_TOKEN, VIEWER_TOKEN, open_seeded
from tests.web.server import LiveServer


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("dashboard")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    binary = chromium_binary()
    if binary is None:
        pytest.skip("no Chromium or chromedriver: apt-get install chromium chromium-driver")
    driver = open_browser(binary, tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


@pytest.fixture
def signed_in(browser, live_server):
    """The browser, signed in with the viewer token (once per module: the session lasts)."""
    from selenium.webdriver.common.by import By

    browser.get(live_server.url + "/login")
    fields = browser.find_elements(By.ID, "token")
    if fields:  # not signed in yet
        fields[0].send_keys(VIEWER_TOKEN)
        browser.find_element(By.ID, "sign-in").click()
        for _ in range(100):
            if "/login" not in browser.current_url:
                break
            time.sleep(0.1)
    return browser


def screenshot(browser, name: str) -> None:
    """Keep what the page looked like, as a test artifact (test-artifacts/web/)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / f"{re.sub(r'[^a-z0-9-]+', '-', name)}.png"))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def seeded(tmp_path_factory):
    """The seeded arena behind a Service, in the module's event loop."""
    opened = await open_seeded(tmp_path_factory.mktemp("seeded"))
    yield opened
    await opened.store.close()
    opened.knowledge.close()


def dashboard(service, **settings) -> httpx.AsyncClient:
    """A client of the dashboard app over ``service`` (no network: ASGI in process)."""
    options = {"web_token": VIEWER_TOKEN, "web_admin_token": ADMIN_TOKEN, **settings}
    app = create_app(service, Settings(**options))
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://dashboard.test")


def form_token(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


async def sign_in(client: httpx.AsyncClient, token: str) -> httpx.Response:
    csrf = form_token((await client.get("/login")).text)
    return await client.post("/login", data={"csrf": csrf, "token": token, "next": "/"})
