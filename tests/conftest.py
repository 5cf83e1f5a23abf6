import pytest
from django.utils import translation

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _english_after_each_test():
    """A request in Korean leaves Korean active in the thread (Django activates a language per
    request and never switches back): the next test starts in the default language again."""
    yield
    translation.deactivate()


@pytest.fixture
def editor(db):
    return UserFactory(username="editor", groups=["Editors"])


@pytest.fixture
def viewer(db):
    return UserFactory(username="viewer", groups=["Viewers"])


@pytest.fixture
def trusted_editor(db):
    """An Editor who also holds the permission to see confidential sources and reports."""
    return UserFactory(username="trusted", groups=["Editors"], confidential=True)


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture
def trusted_client(client, trusted_editor):
    client.force_login(trusted_editor)
    return client


@pytest.fixture
def live_worker(session_worker):
    """A real Celery worker (in a thread of this process) consuming from the configured broker.

    Tests that use it need ``django_db(transaction=True)`` so the worker's own connection sees
    their commits. After the test, the worker is drained before the database is flushed: a
    task still queued would otherwise run on the emptied database of the next test (and, for
    one, recreate content types there).
    """
    yield session_worker
    from tracker.tasks import ping

    for _ in range(2):  # a task run by the first round may have enqueued another
        assert ping.delay().get(timeout=60) == "pong"


@pytest.fixture(scope="session")
def session_worker(django_db_blocker):
    """The one worker of the session: stopping a worker costs seconds."""
    from celery.contrib.testing.worker import start_worker

    from config.celery_app import app

    with django_db_blocker.unblock():
        app.control.purge()  # messages a previous run left behind are not this run's
    with start_worker(
        app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=10
    ) as worker:
        yield worker


@pytest.fixture
def document_storage(settings, tmp_path):
    """The documents' storage in a folder of the test's own (the folder)."""
    folder = tmp_path / "documents"
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": folder, "file_permissions_mode": 0o440},
        },
    }
    return folder
