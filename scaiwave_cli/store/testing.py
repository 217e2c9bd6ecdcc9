"""Database fixtures (placeholder until the store issue lands)."""

import pytest


@pytest.fixture(scope="session")
def mariadb_server():
    pytest.skip("store not built yet")


@pytest.fixture
def db_url():
    pytest.skip("store not built yet")


@pytest.fixture
def store():
    pytest.skip("store not built yet")
