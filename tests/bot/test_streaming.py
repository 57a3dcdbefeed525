"""The edit throttle both chat adapters share."""

from __future__ import annotations

from bot.streaming import Throttled


async def test_the_first_text_shows_at_once_then_at_most_once_an_interval() -> None:
    now = [0.0]
    shown: list[str] = []

    async def show(text: str) -> None:
        shown.append(text)

    throttled = Throttled(show, 1.0, clock=lambda: now[0])
    for at, text in [(0.0, "a"), (0.4, "ab"), (0.9, "abc"), (1.0, "abcd"), (1.5, "abcde")]:
        now[0] = at
        await throttled(text)
    now[0] = 2.2
    await throttled("abcdef")
    assert shown == ["a", "abcd", "abcdef"]
