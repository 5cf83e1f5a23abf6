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
