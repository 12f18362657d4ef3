"""The report pages: an index, each page with its filters in the query string, and its CSV and XLSX exports."""

from django.urls import path

from reporting import views

app_name = "reporting"

urlpatterns = [
    path("reports/", views.report_index, name="index"),
    path("reports/<slug:slug>/", views.report_page, name="page"),
    path("reports/<slug:slug>/export.csv", views.report_export, {"fmt": "csv"}, name="export_csv"),
    path("reports/<slug:slug>/export.xlsx", views.report_export, {"fmt": "xlsx"}, name="export_xlsx"),
]
