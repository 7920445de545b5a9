"""Two-factor sign-in in a real browser: the password alone shows no staff page, not even the first one."""

import re

from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from ..conftest import make_person
from .conftest import PASSWORD, browser_db, staff_user, totp_code


@browser_db
def test_the_password_alone_opens_no_staff_page(page, settings):
    settings.STAFF_2FA_REQUIRED = True
    user = staff_user("caseworker", "Caseworker")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    make_person(name="Jang Myong-chol", internal_notes="Family in Hoeryong; do not contact by phone.")

    # Straight to the list of cases, as a bookmark would.
    page.goto("/admin/cases/person/")
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/admin/cases/person/$"))
    page.get_by_label("Username").fill("caseworker")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # The first page after the password is the code check, and it shows no case.
    expect(page).to_have_url(re.compile(r"/staff/2fa/\?next=%2Fadmin%2Fcases%2Fperson%2F$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor check")
    expect(page.locator("body")).not_to_contain_text("Jang Myong-chol")
    # Nor does any other staff page before the code.
    for url in ("/admin/", "/admin/cases/person/", "/staff/"):
        page.goto(url)
        expect(page).to_have_url(re.compile(r"/staff/2fa/\?next="))
        expect(page.locator("body")).not_to_contain_text("Jang Myong-chol")

    page.get_by_label("Code from your authenticator app").fill(totp_code(device.bin_key))
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/staff/$"))
    page.goto("/admin/cases/person/")
    expect(page.locator("#result_list")).to_contain_text("Jang Myong-chol")
