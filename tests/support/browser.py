"""A real headless Chromium (the system's, with its chromedriver) sized as a phone."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# A phone in portrait, in CSS pixels (an iPhone 12-15's viewport).
PHONE = (390, 844)


def need_chromium() -> None:
    """Skip where Chromium is truly missing; in CI (CI=true) that is a failure."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(p)]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must have {', '.join(missing)} (.ci/run installs them)")
        pytest.skip(f"{', '.join(missing)} not installed (apt-get install chromium-driver)")


@contextmanager
def phone_browser(width: int = PHONE[0], height: int = PHONE[1]) -> Iterator[Any]:
    """Chromium as a phone: the viewport `width`×`height` CSS px at 3 device px each.

    The flags keep it off the network (no background requests, no updates, no sync)
    and in a fresh profile; as root it needs --no-sandbox.
    """
    need_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="hh-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 3, "mobile": True},
        )
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
