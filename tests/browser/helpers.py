"""Steps the browser tests share."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SCREENSHOTS = ROOT / "docs" / "screenshots"
PASSWORD = "password"  # the root conftest's `admin_user`


def log_in(page, username: str, password: str = PASSWORD) -> None:
    """Log in through the admin's login form."""
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")


def screenshot(page, name: str) -> None:
    """Save a full-page screenshot to docs/screenshots/, only with SAVE_SCREENSHOTS=1."""
    if os.environ.get("SAVE_SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # The admin's app sidebar would make every picture as tall as the app list.
    if page.locator("#nav-sidebar").is_visible():
        page.click("#toggle-nav-sidebar")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
