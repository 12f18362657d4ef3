import pytest
from django.urls import reverse

from accounts.navigation import nav_links

pytestmark = pytest.mark.django_db


def test_unknown_url_shows_the_french_404_page(client, db):
    response = client.get("/cette-page-n-existe-pas/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Page introuvable" in body
    assert '<html lang="fr">' in body


def test_unknown_url_in_english_after_switching(client, db):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Page not found" in client.get("/nothing-here/").content.decode()


def test_home_requires_sign_in(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_home_shows_organisation_kind_country_and_role_in_french(client, forwarder_agent):
    client.force_login(forwarder_agent)
    body = client.get(reverse("home")).content.decode()
    assert "Transit Sahel SARL" in body
    assert "Commissionnaire en douane" in body  # kind
    assert "Burkina Faso" in body
    assert "Agent du commissionnaire" in body  # role


def test_a_link_appears_only_when_its_url_exists_and_the_role_may_follow_it(forwarder_agent, monkeypatch):
    from accounts import navigation

    items = (
        navigation.NavItem("home", "Exists", "", frozenset({"guarantee.request"})),
        navigation.NavItem("guarantees:not_written_yet", "Future page", "", frozenset({"guarantee.request"})),
        navigation.NavItem("organisation_members", "Not for agents", "", frozenset({"organisation.invite"})),
        navigation.NavItem("admin:index", "Staff only", "", staff_only=True),
    )
    monkeypatch.setattr(navigation, "NAV_ITEMS", items)
    assert [link["label"] for link in nav_links(forwarder_agent)] == ["Exists"]


def test_a_forwarder_sees_my_guarantees_rather_than_guarantees(forwarder_agent):
    labels = [str(link["label"]) for link in nav_links(forwarder_agent)]
    assert "Mes cautions" in labels and "Cautions" not in labels


def test_bank_user_not_yet_enrolled_sees_no_menu(client, bank_maker):
    from tests.accounts.helpers import sign_in

    sign_in(client, bank_maker.email)
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 200
    assert 'class="site-nav"' not in response.content.decode()


def test_forwarder_admin_sees_the_organisation_link_and_the_agent_does_not(forwarder_agent, forwarder_admin):
    members_url = reverse("organisation_members")
    assert members_url in [link["url"] for link in nav_links(forwarder_admin)]
    assert members_url not in [link["url"] for link in nav_links(forwarder_agent)]


def test_header_names_the_organisation_and_role(client, forwarder_admin):
    client.force_login(forwarder_admin)
    body = client.get(reverse("home")).content.decode()
    assert 'data-testid="header-organisation"' in body
    assert "Administrateur du commissionnaire" in body


def test_forbidden_page_is_french(client, forwarder_agent):
    client.force_login(forwarder_agent)
    response = client.get(reverse("organisation_members"))
    assert response.status_code == 403
    assert "Accès refusé" in response.content.decode()


def test_server_error_page_renders_without_a_request():
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override("fr"):
        html = render_to_string("500.html")
    assert "Erreur du serveur" in html


def test_password_reset_sends_a_french_e_mail(client, forwarder_agent, mailoutbox):
    page = client.get(reverse("account_reset_password"))
    assert page.status_code == 200
    response = client.post(reverse("account_reset_password"), {"email": forwarder_agent.email})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert "mot de passe" in mailoutbox[0].body.lower()


def test_admin_pages_of_accounts_open(admin_client, forwarder_admin):
    for name in (
        "admin:accounts_organisation_changelist",
        "admin:accounts_user_changelist",
        "admin:accounts_invitation_changelist",
        "admin:accounts_signinattempt_changelist",
    ):
        assert admin_client.get(reverse(name)).status_code == 200, name
    assert admin_client.get(reverse("admin:accounts_organisation_change", args=[forwarder_admin.organisation.pk])).status_code == 200
    assert admin_client.get(reverse("admin:accounts_user_change", args=[forwarder_admin.pk])).status_code == 200


@pytest.mark.parametrize(
    "url_name",
    ["account_change_password", "account_email", "mfa_index", "account_logout", "account_reauthenticate"],
)
def test_allauth_account_pages_render_in_the_registry_layout(client, forwarder_agent, url_name):
    client.force_login(forwarder_agent)
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="site-header"' in body and '<html lang="fr">' in body


@pytest.mark.parametrize("url_name", ["account_reset_password_done", "account_email_verification_sent"])
def test_allauth_entrance_pages_render_in_the_registry_layout(client, db, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    assert 'class="site-header"' in response.content.decode()
