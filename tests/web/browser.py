"""Headless Chromium from Debian's packages, driven by Selenium through the packaged
chromedriver (never a downloaded one), for the dashboard's real-browser tests."""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["ARTIFACTS", "CHROMEDRIVER", "chromium_binary", "open_browser"]

CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"  # gitignored
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,1000",
)


def chromium_binary() -> str | None:
    """The packaged Chromium and its driver, or None when either is missing."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    return binary if binary and CHROMEDRIVER.exists() else None


def open_browser(binary: str, profile: Path):
    """A Chrome session on the throw-away profile folder ``profile``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
