from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from analysis.api import ImpactReportView
from training.forms import SignInForm

api_v1 = [
    path("", include("training.api.urls")),
    path("", include("surveys.api.urls")),
    path("", include("practice.api.urls")),
    path("reports/impact/", ImpactReportView.as_view(), name="impact-report-api"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=SignInForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file, so the CSP needs no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("surveys.urls")),
    path("", include("practice.urls")),
    path("", include("analysis.urls")),
    path("", include("training.urls")),
]
