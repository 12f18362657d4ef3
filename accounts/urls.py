from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.home, name="home"),
    path("organisation/members/", views.organisation_members, name="organisation_members"),
    path("organisation/invite/", views.organisation_invite, name="organisation_invite"),
    path("organisation/invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("invitation/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
