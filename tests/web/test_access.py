"""Who gets in, and what they may see and do: tokens, the proxy's header, the login's
rate limit, CSRF on every form, hidden text, and the re-index admins may start."""

from __future__ import annotations

import asyncio
import re

import pytest
from markupsafe import escape

from bot import messages
from bot.config import Settings
from bot.errors import BotError
from bot.web.access import LOGIN_ATTEMPTS, LoginLimiter
from bot.web.login import safe_next
from bot.web.run import check_access
from tests.fakes.providers import fake, roster
from tests.fakes.service import service_over_fakes
from tests.web.conftest import dashboard, form_token, sign_in
from tests.web.seed import ADMIN_TOKEN, MARKUP_QUESTION, VIEWER_TOKEN

in_module_loop = pytest.mark.asyncio(loop_scope="module")  # where ``seeded`` lives

PAGES = ["/", "/models/atlas", "/audits", "/questions", "/questions/unanswered", "/knowledge"]


@in_module_loop
async def test_nothing_is_served_without_signing_in(seeded) -> None:
    async with dashboard(seeded.service) as client:
        for path in [*PAGES, "/?export=board&format=csv"]:
            response = await client.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/login?next=")
        poll = await client.get("/?fragment=1", headers={"HX-Request": "true"})
        assert poll.status_code == 401 and poll.headers["HX-Redirect"].startswith("/login")
        assert (await client.post("/knowledge/reindex", data={"csrf": "x"})).status_code == 403
        assert (await client.get("/login")).status_code == 200  # the way in is open
        assert (await client.get("/static/parley.css")).status_code == 200


@in_module_loop
async def test_the_viewer_token_signs_in_and_lands_where_it_was_going(seeded) -> None:
    async with dashboard(seeded.service) as client:
        first = await client.get("/audits")
        login = await client.get(first.headers["location"])
        target = re.search(r'name="next" value="([^"]+)"', login.text).group(1)
        assert target == "/audits"
        signed = await client.post(
            "/login", data={"csrf": form_token(login.text), "token": VIEWER_TOKEN, "next": target}
        )
        assert signed.status_code == 303 and signed.headers["location"] == "/audits"
        page = await client.get("/audits")
        assert page.status_code == 200 and "Audits" in page.text
        cookie = signed.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie


@in_module_loop
async def test_a_wrong_token_is_refused_and_the_login_is_rate_limited(seeded) -> None:
    async with dashboard(seeded.service) as client:
        for _ in range(LOGIN_ATTEMPTS):
            refused = await sign_in(client, "not-the-token")
            assert refused.status_code == 401 and "not right" in refused.text
        limited = await sign_in(client, VIEWER_TOKEN)  # even the right one, for a while
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
        assert (await client.get("/")).status_code == 303


@in_module_loop
async def test_behind_a_trusted_proxy_the_limit_counts_each_real_client(seeded) -> None:
    """One person's wrong tokens lock out their own address, not everyone the proxy
    forwards; and the locked-out one cannot get round it with an X-Forwarded-For of its own
    (the proxy appends the address it saw, and that one counts)."""
    async with dashboard(seeded.service, web_forwarded_allow_ips=["127.0.0.1"]) as client:
        client.headers["X-Forwarded-For"] = "203.0.113.7"
        for _ in range(LOGIN_ATTEMPTS):
            assert (await sign_in(client, "not-the-token")).status_code == 401
        assert (await sign_in(client, VIEWER_TOKEN)).status_code == 429
        client.headers["X-Forwarded-For"] = "198.51.100.2"  # someone else, same proxy
        assert (await sign_in(client, ADMIN_TOKEN)).status_code == 303
        client.cookies.clear()  # signed out again
        client.headers["X-Forwarded-For"] = "198.51.100.9, 203.0.113.7"
        assert (await sign_in(client, VIEWER_TOKEN)).status_code == 429


@in_module_loop
async def test_forwarded_for_from_an_untrusted_address_is_ignored(seeded) -> None:
    proxies = {"web_forwarded_allow_ips": ["10.0.0.0/8"]}  # the client here is 127.0.0.1
    async with dashboard(seeded.service, **proxies) as client:
        for n in range(LOGIN_ATTEMPTS):
            client.headers["X-Forwarded-For"] = f"203.0.113.{n}"
            assert (await sign_in(client, "not-the-token")).status_code == 401
        client.headers["X-Forwarded-For"] = "198.51.100.2"
        assert (await sign_in(client, VIEWER_TOKEN)).status_code == 429


def test_a_trusted_proxy_must_be_an_address_or_network() -> None:
    with pytest.raises(BotError, match=r"web_forwarded_allow_ips holds 'proxy\.local'"):
        check_access(Settings(web_token="t", web_forwarded_allow_ips=["proxy.local"]))
    check_access(Settings(web_token="t", web_forwarded_allow_ips=["127.0.0.1", "fd00::/8"]))


def test_the_limiter_forgets_failures_after_its_window() -> None:
    now = [0.0]
    limiter = LoginLimiter(attempts=2, window=60, clock=lambda: now[0])
    limiter.failed("a")
    limiter.failed("a")
    assert limiter.wait("a") == pytest.approx(60) and limiter.wait("b") == 0
    now[0] = 59.0
    assert limiter.wait("a") == pytest.approx(1)
    now[0] = 60.5
    assert limiter.wait("a") == 0
    limiter.failed("a")
    limiter.succeeded("a")
    limiter.failed("a")
    assert limiter.wait("a") == 0  # a success clears the count


@in_module_loop
async def test_forms_without_the_sessions_token_are_refused(seeded) -> None:
    async with dashboard(seeded.service) as client:
        await client.get("/login")
        forged = await client.post("/login", data={"csrf": "guess", "token": VIEWER_TOKEN})
        assert forged.status_code == 403 and (await client.get("/")).status_code == 303
        await sign_in(client, ADMIN_TOKEN)
        page = await client.get("/knowledge")
        assert (await client.post("/knowledge/reindex", data={})).status_code == 403
        assert (await client.post("/logout", data={"csrf": "guess"})).status_code == 403
        out = await client.post("/logout", data={"csrf": form_token(page.text)})
        assert out.status_code == 303 and (await client.get("/")).status_code == 303


@in_module_loop
async def test_a_new_token_ends_every_session(seeded) -> None:
    async with dashboard(seeded.service) as client:
        await sign_in(client, VIEWER_TOKEN)
        cookies = dict(client.cookies)
    async with dashboard(seeded.service, web_token="the-new-token") as client:
        client.cookies.update(cookies)
        assert (await client.get("/")).status_code == 303


@in_module_loop
async def test_the_proxys_header_names_the_viewer_and_the_admin_rule_is_chats(seeded) -> None:
    settings = {"web_trusted_header": "X-Forwarded-User", "web_hide_text": True}
    async with dashboard(seeded.service, **settings) as client:
        assert (await client.get("/")).status_code == 303  # the header is the way in
        bob = await client.get("/questions", headers={"X-Forwarded-User": "bob"})
        assert bob.status_code == 200 and "bob" in bob.text
        assert "(hidden)" in bob.text and "VPN access" not in bob.text
        assert (
            'id="reindex"'
            not in (await client.get("/knowledge", headers={"X-Forwarded-User": "bob"})).text
        )
        alice = await client.get("/questions", headers={"X-Forwarded-User": "alice"})
        assert "(admin)" in alice.text and "VPN access" in alice.text  # web:alice is an admin
        assert (
            'id="reindex"'
            in (await client.get("/knowledge", headers={"X-Forwarded-User": "alice"})).text
        )


@in_module_loop
async def test_hidden_text_hides_it_everywhere_a_viewer_could_read_it(seeded) -> None:
    async with dashboard(seeded.service, web_hide_text=True) as client:
        await sign_in(client, VIEWER_TOKEN)
        searched = await client.get("/questions?q=VPN")
        assert "Search questions" not in searched.text  # no search for who cannot read
        assert "Who approves VPN" not in searched.text
        exported = (await client.get("/questions?export=questions&format=json")).json()
        assert exported and {row["question"] for row in exported} == {"(hidden)"}
        assert {a["text"] for row in exported for a in row["answers"]} == {"(hidden)"}
        gaps = await client.get("/questions/unanswered?export=gaps&format=csv")
        assert "VPN" not in gaps.text and "(hidden)" in gaps.text
        model = await client.get("/models/bramble?export=reasons&format=csv")
        assert "Wrong" in model.text and "nothing" not in model.text  # own words hidden
        audits = await client.get("/audits")
        assert MARKUP_QUESTION[:10] not in audits.text and "VPN" not in audits.text
    async with dashboard(seeded.service, web_hide_text=True) as client:
        await sign_in(client, ADMIN_TOKEN)
        searched = await client.get("/questions?q=VPN&export=questions&format=json")
        assert {row["question"] for row in searched.json()} == {
            "How do I get VPN access?",
            "Who approves VPN access requests?",
        }


@in_module_loop
async def test_an_admin_re_indexes_from_the_page_and_a_viewer_cannot(seeded) -> None:
    async with dashboard(seeded.service) as client:
        await sign_in(client, VIEWER_TOKEN)
        page = await client.get("/knowledge")
        assert 'id="reindex"' not in page.text
        refused = await client.post("/knowledge/reindex", data={"csrf": form_token(page.text)})
        assert refused.status_code == 403 and "admins can re-index" in refused.text
    before = seeded.knowledge.status().last_run.finished_at
    async with dashboard(seeded.service) as client:
        await sign_in(client, ADMIN_TOKEN)
        page = await client.get("/knowledge")
        started = await client.post("/knowledge/reindex", data={"csrf": form_token(page.text)})
        assert started.status_code == 303 and started.headers["location"] == "/knowledge"
        for _ in range(200):
            status = seeded.knowledge.status()
            if status.last_run.finished_at > before and seeded.service.reindex_status is None:
                break
            await asyncio.sleep(0.05)
        assert status.last_run.finished_at > before
        page = await client.get("/knowledge")
        assert "Indexed in" in page.text and "unchanged" in page.text  # the run's summary


@in_module_loop
async def test_a_re_index_without_sources_says_where_to_name_them(seeded) -> None:
    """The dashboard cannot name paths: the message says where they are set instead."""
    indexed: list = []
    service = service_over_fakes(
        seeded.store,
        roster(fake("atlas", "Yes.")),
        sources=[],
        index=lambda paths, progress, passages: indexed.append(paths),
    )
    async with dashboard(service) as client:
        await sign_in(client, ADMIN_TOKEN)
        page = await client.get("/knowledge")
        started = await client.post("/knowledge/reindex", data={"csrf": form_token(page.text)})
        assert started.status_code == 303
        for _ in range(100):
            shown = await client.get("/knowledge")
            if "No knowledge sources" in shown.text:
                break
            await asyncio.sleep(0.02)
    assert indexed == []
    assert str(escape(messages.no_sources())) in shown.text
    assert "PARLEY_SOURCES" in shown.text and "parley index PATH" in shown.text
    assert "name the paths" not in shown.text


@in_module_loop
async def test_every_response_forbids_framing_sniffing_and_foreign_scripts(seeded) -> None:
    async with dashboard(seeded.service) as client:
        await sign_in(client, VIEWER_TOKEN)
        page = await client.get("/")
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["cache-control"] == "no-store"
        assert float(page.headers["server-timing"].split("dur=")[1]) > 0
        assert "http" not in re.sub(r'href="/|src="/', "", page.text.split("<body>")[0])


def test_after_signing_in_only_this_sites_paths() -> None:
    assert safe_next("/models/atlas?ties=half") == "/models/atlas?ties=half"
    for bad in ("https://evil.example/", "//evil.example/", "/\\evil.example", "", None):
        assert safe_next(bad) == "/"


def test_the_dashboard_will_not_start_open_to_anyone() -> None:
    with pytest.raises(BotError, match="PARLEY_WEB_TOKEN"):
        check_access(Settings())
    check_access(Settings(web_trusted_header="X-Forwarded-User"))
    check_access(Settings(web_token="t"))
