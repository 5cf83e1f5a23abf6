"""Helpers for posting the admin's forms as a browser would."""

from django.urls import reverse


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def report_form(publisher, claims: list[dict], **fields) -> dict:
    """The POST body of the report add form with one inline row per dict in ``claims`` (and
    no document: ``document_rows`` adds some)."""
    data = {
        "title": "NKDB survey of northeast China",
        "url": "",
        "publisher": publisher.pk,
        "published_on": "2019-12-23",
        "language": "en",
        "notes": "",
        "claims-TOTAL_FORMS": str(len(claims)),
        "claims-INITIAL_FORMS": "0",
        "claims-MIN_NUM_FORMS": "0",
        "claims-MAX_NUM_FORMS": "1000",
        "documents-TOTAL_FORMS": "0",
        "documents-INITIAL_FORMS": "0",
        "_save": "Save",
        **fields,
    }
    for i, claim in enumerate(claims):
        row = {
            "stance": "unclear",
            "measure": "",
            "count_low": "",
            "count_high": "",
            "period_start": "",
            "credibility": "3",
            "summary": "",
            "external_id": "",
            **claim,
        }
        data.update({f"claims-{i}-{key}": value for key, value in row.items()})
    return data


def document_rows(documents: list[dict], initial: int = 0) -> dict:
    """The documents inline's part of the report form: a row per dict (``file``, ``note``,
    and ``id`` for a stored one; the first ``initial`` rows are stored ones)."""
    data = {
        "documents-TOTAL_FORMS": str(len(documents)),
        "documents-INITIAL_FORMS": str(initial),
    }
    for i, row in enumerate(documents):
        data.update({f"documents-{i}-{key}": value for key, value in row.items()})
    return data
