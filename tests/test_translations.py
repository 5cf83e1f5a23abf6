"""The Korean catalogue: complete, up to date with the source, compiled as committed; and the
pages answer in the reader's language (docs/decisions/i18n.md)."""

from __future__ import annotations

import fnmatch
import gettext
import io
import re
import shutil
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.contrib import admin
from django.core.management import call_command
from django.test import override_settings
from django.utils.functional import Promise

from tracker.management.commands.messages import (
    IGNORED,
    LOCALES,
    MAKEMESSAGES_OPTIONS,
    catalogue,
)

BASE_DIR = Path(settings.BASE_DIR)
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|\{\w*\}")


def read(path: Path):
    with path.open("rb") as f:
        return read_po(f, locale="ko")


def keys(messages) -> set[tuple]:
    """Each message as (context, msgid, plural msgid)."""
    found = set()
    for message in messages:
        if not message.id:
            continue  # the header
        ids = message.id if isinstance(message.id, tuple) else (message.id, None)
        found.add((message.context, *ids))
    return found


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_of_the_catalogue_is_translated_and_none_is_fuzzy(locale):
    untranslated, fuzzy = [], []
    for message in read(catalogue(locale)):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            untranslated.append(message.id)
        if message.fuzzy:
            fuzzy.append(message.id)
    assert untranslated == [], "untranslated: make messages, then translate these"
    assert fuzzy == [], "fuzzy: check each translation, then remove its fuzzy flag"


@pytest.mark.parametrize("locale", LOCALES)
def test_each_translation_keeps_the_placeholders_of_its_message(locale):
    wrong = []
    for message in read(catalogue(locale)):
        if not message.id:
            continue
        source = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(source[-1]))
        if any(set(PLACEHOLDER.findall(s)) != wanted for s in strings):
            wrong.append((message.id, message.string))
    assert wrong == []


@pytest.mark.parametrize("locale", LOCALES)
def test_the_committed_compiled_catalogue_is_the_catalogue(locale):
    # django.mo is committed (neither `make run` nor the image has gettext): it must say what
    # django.po says. Compiled again here in Python (babel), compared message by message.
    po = catalogue(locale)
    compiled = io.BytesIO()
    write_mo(compiled, read(po))
    compiled.seek(0)
    expected = gettext.GNUTranslations(compiled)._catalog
    with po.with_suffix(".mo").open("rb") as f:
        committed = gettext.GNUTranslations(f)._catalog
    expected.pop("", None)  # the headers, written differently by msgfmt and babel
    committed.pop("", None)
    assert committed == expected, "django.mo is stale: run make messages and commit it"


@pytest.mark.skipif(
    shutil.which("xgettext") is None or shutil.which("msgmerge") is None,
    reason="GNU gettext is not installed (scripts/ensure-services.sh gettext; make test does)",
)
@pytest.mark.parametrize("locale", LOCALES)
def test_the_catalogue_has_every_message_of_the_source_and_no_other(locale, tmp_path, monkeypatch):
    # Extract afresh, as `make messages` does, in a copy of the project without its catalogue
    # (makemessages writes into the locale folder nearest each file), and compare.
    copy = tmp_path / "project"
    copy.mkdir()
    for entry in BASE_DIR.iterdir():
        skipped = entry.name.startswith(".") or entry.name == "locale"
        if skipped or any(fnmatch.fnmatch(entry.name, pattern) for pattern in IGNORED):
            continue
        if entry.is_dir():
            shutil.copytree(entry, copy / entry.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(entry, copy / entry.name)
    (copy / "locale").mkdir()
    monkeypatch.chdir(copy)
    with override_settings(LOCALE_PATHS=[copy / "locale"]):
        call_command("makemessages", verbosity=0, **MAKEMESSAGES_OPTIONS)
    source = keys(read(catalogue(locale, copy / "locale")))
    committed = keys(read(catalogue(locale)))
    assert sorted(source - committed, key=str) == [], "new messages: run make messages"
    assert sorted(committed - source, key=str) == [], "messages gone: run make messages"


# --- the reader's language ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/claims/", "/admin/", "/admin/tracker/claim/"])
def test_a_korean_browser_reads_the_pages_and_the_admin_in_korean(viewer_client, url):
    response = viewer_client.get(url, HTTP_ACCEPT_LANGUAGE="ko-KR,ko;q=0.9,en;q=0.8")
    page = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="ko"' in page
    assert response["Content-Language"] == "ko"
    assert "로그아웃" in page  # Django's own "Log out", which Django ships in Korean


@pytest.mark.django_db
@pytest.mark.parametrize("accept", [None, "en-GB,en;q=0.9", "fr-FR,fr;q=0.9", "de"])
def test_any_other_browser_reads_english(viewer_client, accept):
    headers = {"HTTP_ACCEPT_LANGUAGE": accept} if accept else {}
    page = viewer_client.get("/claims/", **headers).content.decode()
    assert '<html lang="en"' in page
    assert "Log out" in page


@pytest.mark.django_db
def test_the_login_page_answers_a_korean_browser_in_korean(client):
    page = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert '<html lang="ko"' in page
    assert "로그인" in page


# --- what the models say ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_models_validation_speaks_the_readers_language():
    import datetime

    from django.core.exceptions import ValidationError
    from django.utils import translation

    from tracker.models import Claim

    claim = Claim(
        count_low=80_000, count_high=70_000, measure="workers", as_of=datetime.date(2019, 1, 1)
    )
    for language, expected in [
        ("en", "The upper bound (70,000) is below the lower bound (80,000)."),
        ("ko", "상한(70,000)이 하한(80,000)보다 작습니다."),
    ]:
        with translation.override(language), pytest.raises(ValidationError) as error:
            claim.clean()
        assert error.value.message_dict["count_high"] == [expected]
    with translation.override("ko"):
        assert str(Claim._meta.verbose_name) == "주장"
        assert str(Claim._meta.get_field("as_of").verbose_name) == "기준일"
        assert Claim(measure="new_work_permits").get_measure_display() == "신규 노동허가"


@pytest.mark.django_db
def test_the_claim_page_reads_korean(viewer_client):
    import datetime

    from tests.factories import ClaimFactory

    ClaimFactory(
        stance="violating", count_low=2_000, count_high=None, as_of=datetime.date(2019, 12, 23)
    )
    page = viewer_client.get("/claims/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    for korean in [
        "<h1>주장</h1>",  # the title
        "기준일 범위 (시작 – 끝)",  # a filter
        "기준일, 최신순",  # a sort
        "<td>위반</td>",  # the stance
        "노동자 2,000 이상",  # the count: what, then how many
        "2019-12-23 기준",  # as of
        "1건",  # found
    ]:
        assert korean in page, korean


@pytest.mark.django_db
def test_the_admin_reads_korean(editor_client):
    page = editor_client.get("/admin/tracker/claim/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    for korean in [
        "주장 가져오기",
        "증거 자료집",
        "선택한 주장을 CSV로 내보내기",
        "제재 기한 이행 추적기",
    ]:
        assert korean in page, korean
    page = editor_client.get(
        "/admin/tracker/claim/add/", HTTP_ACCEPT_LANGUAGE="ko"
    ).content.decode()
    for korean in ["주장한 출처", "집계 항목", "신빙성", "1 – 다른 출처로 확인됨"]:
        assert korean in page, korean


@pytest.mark.django_db
def test_the_import_says_what_is_wrong_in_korean():
    from django.utils import translation

    from tracker import imports

    header = ",".join(imports.REQUIRED)
    with translation.override("ko"):
        with pytest.raises(imports.ImportFileError, match=r"필수 열이 없습니다: stance, as_of\."):
            imports.read_rows(
                b"report_title,publisher,published_on,claim_source,source_kind,country\n", "c.csv"
            )
        row = "A report,RFA,2019-12-23,NKDB,ngo,XX,violating,2019-12-01"
        plan = imports.plan(imports.read_rows(f"{header}\n{row}\n".encode(), "c.csv"))
        errors = [str(e) for e in plan.errors]
    assert errors == ["2행, country 열: 'XX'은(는) 유엔 회원국의 ISO 코드도, WORLD도 아닙니다."]


@pytest.mark.django_db
def test_the_api_says_what_is_wrong_in_the_readers_language(editor):
    from rest_framework.test import APIClient

    from tests.factories import ClaimFactory, SourceFactory, country

    body = {
        "report": ClaimFactory().report.pk,
        "attributed_to": SourceFactory().pk,
        "place": country("CN").pk,
        "stance": "violating",
        "measure": "workers",
        "count_low": 80_000,
        "count_high": 70_000,
        "as_of": "2019-12-23",
    }
    anonymous = APIClient().get("/api/claims/", HTTP_ACCEPT_LANGUAGE="ko")
    assert anonymous.json()["detail"] == "자격 인증 데이터가 제공되지 않았습니다."  # DRF's own
    client = APIClient()
    client.force_authenticate(editor)
    for language, expected in [
        ("en", "The upper bound (70,000) is below the lower bound (80,000)."),
        ("ko", "상한(70,000)이 하한(80,000)보다 작습니다."),
    ]:
        response = client.post("/api/claims/", body, format="json", HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 400
        assert response.json()["count_high"] == [expected]
        assert response["Content-Language"] == language


def test_every_model_the_admin_shows_is_named_through_the_catalogue():
    """The admin's headings, sidebar and form labels come from the models' and fields' names:
    a name written as a plain string never reaches the catalogue (it read "Documents" on a
    Korean admin)."""
    shown = [m for m in admin.site._registry if m._meta.app_label in ("tracker", "reports")]
    plain = [
        f"{model.__name__}.{attr}"
        for model in shown
        for attr in ("verbose_name", "verbose_name_plural")
        if not isinstance(getattr(model._meta, attr), Promise)
    ]
    plain += [
        f"{model.__name__}.{field.name}"
        for model in shown
        for field in model._meta.get_fields()
        if not field.auto_created and not isinstance(field.verbose_name, Promise)
    ]
    assert plain == []
