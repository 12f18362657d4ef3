"""The API contract checked from outside: the schema as served, and the app behind a live test server.

``live_api`` is the API world of ``tests/guarantees/api/conftest.py`` (a forwarder's active guarantee issued in Burkina Faso
with its access code, a customs administration and an API key per country) committed to the database, behind
pytest-django's live server, with the rate limits off so that a fuzzing run is not slowed into 429s.
"""

from dataclasses import dataclass

import pytest

from tests.guarantees.api.conftest import World


@dataclass
class LiveApi:
    url: str
    world: World

    def key(self, country: str) -> str:
        return self.world.raw[country]


@pytest.fixture
def live_api(transactional_db, live_server, world, settings) -> LiveApi:
    settings.API_THROTTLE_RATES = {"api_key": "", "user": "", "anon": ""}
    settings.REGISTRY_ACCESS_CODE_MAX_FAILURES = 10**6
    return LiveApi(url=live_server.url, world=world)


@pytest.fixture
def served_schema(client) -> dict:
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()
