import pytest

from tests.factories import UserFactory


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


@pytest.fixture(scope="session")
def live_worker(django_db_blocker):
    """A real Celery worker (in a thread of this process) consuming from the configured broker.

    One per session: stopping a worker costs seconds. Tests that use it need
    ``django_db(transaction=True)`` so the worker's own connection sees their commits.
    """
    from celery.contrib.testing.worker import start_worker

    from config.celery_app import app

    with django_db_blocker.unblock():
        app.control.purge()  # messages a previous run left behind are not this run's
    with start_worker(
        app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=10
    ) as worker:
        yield worker
