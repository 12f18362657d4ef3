import pytest

from accounts.roles import Role
from tests.accounts.helpers import verified
from tests.factories import BankOrganisationFactory, CustomsFactory, ForwarderFactory, member


@pytest.fixture
def forwarder(db):
    return ForwarderFactory(name="Transit Sahel SARL")


@pytest.fixture
def forwarder_agent(forwarder):
    return verified(member(forwarder, Role.FORWARDER_AGENT, email="agent@transit-sahel.bf"))


@pytest.fixture
def forwarder_admin(forwarder):
    return verified(member(forwarder, Role.FORWARDER_ADMIN, email="admin@transit-sahel.bf"))


@pytest.fixture
def bank_org(db):
    return BankOrganisationFactory(name="Banque Sahélienne de Commerce")


@pytest.fixture
def bank_maker(bank_org):
    return verified(member(bank_org, Role.BANK_MAKER, email="maker@banque-sahel.bf"))


@pytest.fixture
def bank_admin(bank_org):
    return verified(member(bank_org, Role.BANK_ADMIN, email="admin@banque-sahel.bf"))


@pytest.fixture
def customs_officer(db):
    return verified(member(CustomsFactory(), Role.CUSTOMS_OFFICER, email="officer@douanes.bf"))

