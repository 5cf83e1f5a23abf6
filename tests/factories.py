"""factory_boy factories for the domain. Reference data (countries, obligations) comes from
the migrations, so factories look it up rather than create it."""

import datetime

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile
from factory.django import DjangoModelFactory

from tracker import documents
from tracker.models import Claim, Obligation, Place, Report, ReportDocument, Source, Watch


def country(iso: str) -> Place:
    return Place.objects.get(kind=Place.Kind.COUNTRY, iso_code=iso)


def world() -> Place:
    return Place.objects.get(kind=Place.Kind.WORLD)


def obligation(code: str) -> Obligation:
    return Obligation.objects.get(code=code)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-only")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=extracted))

    @factory.post_generation
    def confidential(self, create, extracted, **kwargs):
        if create and extracted:
            self.user_permissions.add(
                Permission.objects.get(
                    content_type__app_label="tracker", codename="view_confidential"
                )
            )
        if create:
            self.save()


class PlaceFactory(DjangoModelFactory):
    class Meta:
        model = Place

    name = factory.Sequence(lambda n: f"Place {n}")
    kind = Place.Kind.REGION
    parent = factory.LazyFunction(lambda: country("CN"))


class SourceFactory(DjangoModelFactory):
    class Meta:
        model = Source

    name = factory.Sequence(lambda n: f"Source {n}")
    kind = Source.Kind.NGO
    reliability = "B"


class ReportFactory(DjangoModelFactory):
    class Meta:
        model = Report

    title = factory.Sequence(lambda n: f"Report {n}")
    publisher = factory.SubFactory(SourceFactory, kind=Source.Kind.NEWS)
    published_on = datetime.date(2019, 12, 23)


class ClaimFactory(DjangoModelFactory):
    class Meta:
        model = Claim

    report = factory.SubFactory(ReportFactory)
    attributed_to = factory.SubFactory(SourceFactory)
    place = factory.LazyFunction(lambda: country("CN"))
    stance = Claim.Stance.UNCLEAR
    measure = Claim.Measure.WORKERS
    count_low = 1000
    count_high = factory.SelfAttribute("count_low")
    as_of = datetime.date(2019, 12, 1)
    credibility = 3


class WatchFactory(DjangoModelFactory):
    class Meta:
        model = Watch

    place = factory.LazyFunction(lambda: country("QA"))
    obligation = factory.LazyFunction(lambda: obligation("UNSCR2397-OP8"))


def pdf_bytes(text: str = "") -> bytes:
    """A small file that is a PDF by its first bytes, with ``text`` in it."""
    return b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n% " + text.encode() + b"\ntrailer<<>>\n%%EOF\n"


class DocumentFactory(factory.Factory):
    """A document added as the admin adds one (``documents.document_add``): needs the
    ``document_storage`` fixture, or it is written under the var dir."""

    class Meta:
        model = ReportDocument

    report = factory.SubFactory(ReportFactory)
    name = "article.pdf"
    content = factory.Sequence(lambda n: pdf_bytes(f"document {n}"))
    added_by = None
    note = ""

    @classmethod
    def _create(cls, model_class, *, report, name, content, **kwargs):
        return documents.document_add(
            report=report, upload=ContentFile(content, name=name), **kwargs
        )
