"""Every screen at 360×740 in zh-CN and en: screenshots for people to look at, and the phone-first
rules checked on each: nothing wider than the screen, touch targets at least 44 px tall."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Phone

CHECK = """() => {
  const wide = document.scrollingElement.scrollWidth;
  const small = [...document.querySelectorAll('button, a, input, select, textarea')]
    .filter((el) => el.offsetParent !== null && !el.closest('.facts') && !el.closest('.muted'))
    .map((el) => [el.outerHTML.slice(0, 80), el.getBoundingClientRect().height])
    .filter(([, h]) => h < 44);
  return { wide, small };
}"""


async def _check(ph: Phone, name: str) -> None:
    await ph.shot(name)
    result = await ph.page.evaluate(CHECK)
    assert result["wide"] <= 360, f"{name}: page is {result['wide']} px wide"
    assert result["small"] == [], f"{name}: touch targets under 44 px: {result['small']}"


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
async def test_every_screen_fits_a_phone(phone, locale):
    ph = await phone(locale)
    await ph.page.goto(ph.url + "/")
    await ph.page.wait_for_selector("input[name=username]")
    await _check(ph, f"{locale}-01-login")
    await ph.login("rep1")
    await _check(ph, f"{locale}-02-customers")
    await ph.page.fill("input[name=q]", "有限公司")
    await ph.page.wait_for_timeout(300)
    await _check(ph, f"{locale}-03-search")
    await ph.page.click("[data-testid=customer-list] li a")
    await ph.page.wait_for_selector(".facts")
    await _check(ph, f"{locale}-04-customer")
    await ph.page.click(".page-head button.secondary")
    await ph.page.wait_for_selector("form input[name=name]")
    await _check(ph, f"{locale}-05-customer-edit")
    await ph.page.go_back()
    await ph.page.wait_for_selector(".facts")
    await ph.page.click("button.secondary.wide")
    await ph.page.wait_for_selector("input[name=contactName]")
    await _check(ph, f"{locale}-06-contact-new")
    await ph.go("/sync")
    await ph.page.wait_for_selector("[data-testid=sync-facts]")
    await _check(ph, f"{locale}-07-sync")
    await ph.go("/devices")
    await ph.page.wait_for_selector("[data-testid=devices] li")
    await _check(ph, f"{locale}-08-devices")
    await ph.go("/settings")
    await ph.page.wait_for_selector(".segmented")
    await _check(ph, f"{locale}-09-settings")
    assert ph.errors == []
