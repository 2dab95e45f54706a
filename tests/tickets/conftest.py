"""Fixtures of the ticket tests. `ops` here is a user (the buyer API tests check that staff names stay
internal); tests/tickets/test_api_staff.py has its own `ops`, an API client of the conftest's `ops_user`."""

import pytest

from tests.factories import UserFactory


@pytest.fixture
def ops(db):
    return UserFactory(username="ops-olga-internal", groups=["ops"], is_staff=True)
