"""The reader's language: their preference, else the browser's, else English; the switcher on
every page keeps a logged-in user's choice (tracker/languages.py)."""

import pytest
from django.conf import settings

from tests.factories import UserFactory
from tracker import languages
from tracker.models import LANGUAGE_CHOICES, Profile

pytestmark = pytest.mark.django_db

KOREAN_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "ko-KR,ko;q=0.9"}
ENGLISH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


def lang(response) -> str:
    page = response.content.decode()
    return page.split('<html lang="', 1)[1].split('"', 1)[0]


def test_the_preference_offers_exactly_the_sites_languages():
    assert [code for code, _ in LANGUAGE_CHOICES] == [code for code, _ in settings.LANGUAGES]


@pytest.mark.parametrize(
    ("preference", "browser", "expected"),
    [
        ("ko", ENGLISH_BROWSER, "ko"),
        ("en", KOREAN_BROWSER, "en"),
        ("", KOREAN_BROWSER, "ko"),
        ("", ENGLISH_BROWSER, "en"),
        ("", {}, "en"),
        (None, KOREAN_BROWSER, "ko"),  # no profile at all
    ],
)
def test_the_users_preference_comes_before_the_browsers_language(
    client, viewer, preference, browser, expected
):
    if preference is not None:
        Profile.objects.create(user=viewer, language=preference)
    client.force_login(viewer)
    for url in ("/claims/", "/admin/"):
        response = client.get(url, **browser)
        assert lang(response) == expected, url
        assert response["Content-Language"] == expected


def test_the_switcher_keeps_a_logged_in_users_choice_across_logins(client, viewer):
    client.force_login(viewer)
    response = client.post("/language/", {"language": "ko", "next": "/claims/?stance=violating"})
    assert response.status_code == 302
    assert response["Location"] == "/claims/?stance=violating"
    assert Profile.objects.get(user=viewer).language == "ko"
    assert lang(client.get("/claims/", **ENGLISH_BROWSER)) == "ko"
    client.logout()
    client.cookies.clear()  # another browser: no language cookie
    client.force_login(viewer)
    assert lang(client.get("/claims/", **ENGLISH_BROWSER)) == "ko"
    client.post("/language/", {"language": "en", "next": "/"})
    assert lang(client.get("/claims/", **KOREAN_BROWSER)) == "en"


def test_the_switcher_before_logging_in_sets_the_language_cookie(client):
    response = client.post("/language/", {"language": "ko", "next": "/admin/login/"})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ko"
    page = client.get("/admin/login/", **ENGLISH_BROWSER)
    assert lang(page) == "ko"
    assert "로그인" in page.content.decode()
    assert not Profile.objects.exists()


def test_the_switcher_refuses_a_language_the_site_does_not_have_and_a_foreign_next(client, viewer):
    client.force_login(viewer)
    response = client.post("/language/", {"language": "fr", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert not Profile.objects.exists()
    assert client.get("/language/").status_code == 405  # a change is a POST


@pytest.mark.parametrize(
    "url", ["/", "/claims/", "/flags/", "/summaries/", "/preferences/", "/admin/", "/admin/login/"]
)
def test_every_page_has_the_switcher(client, viewer, url):
    if url != "/admin/login/":
        client.force_login(viewer)
    page = client.get(url).content.decode()
    assert 'class="language-switcher" action="/language/" method="post"' in page
    assert 'value="ko" lang="ko">한국어</button>' in page
    assert 'value="en" lang="en" aria-current="true" disabled>English</button>' in page


def test_a_user_sets_their_language_on_their_own_page(client, viewer):
    client.force_login(viewer)
    page = client.get("/preferences/")
    assert page.status_code == 200
    response = client.post("/preferences/", {"language": "ko"})
    assert response.status_code == 302
    assert Profile.objects.get(user=viewer).language == "ko"
    page = client.get("/preferences/", **ENGLISH_BROWSER).content.decode()
    assert "환경설정을 저장했습니다." in page
    assert '<option value="ko" selected>' in page
    # Back to the browser's language, which also forgets a choice made before logging in.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ko"
    response = client.post("/preferences/", {"language": ""})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == ""
    assert Profile.objects.get(user=viewer).language == ""
    assert lang(client.get("/claims/", **ENGLISH_BROWSER)) == "en"
    assert lang(client.get("/claims/", **KOREAN_BROWSER)) == "ko"


def test_the_preferences_page_needs_a_login(client):
    response = client.get("/preferences/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_an_administrator_sets_a_users_language_in_the_admin(admin_client, viewer):
    url = f"/admin/auth/user/{viewer.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert 'name="profile-0-language"' in page
    form = {
        "username": viewer.username,
        "email": viewer.email,
        "is_active": "on",
        "is_staff": "on",
        "groups": [g.pk for g in viewer.groups.all()],
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "profile-TOTAL_FORMS": "1",
        "profile-INITIAL_FORMS": "0",
        "profile-MIN_NUM_FORMS": "0",
        "profile-MAX_NUM_FORMS": "1",
        "profile-0-language": "ko",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Profile.objects.get(user=viewer).language == "ko"


def test_the_language_is_read_from_the_database_only_at_login(
    client, viewer, django_assert_num_queries
):
    Profile.objects.create(user=viewer, language="ko")
    client.force_login(viewer)
    assert client.session[languages.SESSION_KEY] == "ko"
    Profile.objects.filter(user=viewer).update(language="en")  # e.g. by an administrator
    assert lang(client.get("/claims/")) == "ko"  # until the next login
    other = UserFactory(username="other", groups=["Viewers"])
    client.force_login(other)
    assert client.session[languages.SESSION_KEY] == ""
