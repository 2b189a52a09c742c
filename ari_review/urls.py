from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import IsAuthenticated

from ari_review import apis, two_factor_views, views
from ari_review.headers import inline_styles_allowed

api_v1: list[URLPattern | URLResolver] = [
    path("auth/token/", apis.TokenCreateApi.as_view(), name="api-token-create"),
    path("auth/logout/", apis.TokenRevokeApi.as_view(), name="api-token-revoke"),
    path("auth/logout-all/", apis.TokenRevokeAllApi.as_view(), name="api-token-revoke-all"),
    path("", include("conversations.api_urls")),
    path("", include("evaluation.api_urls")),
    path("", include("training_jobs.api_urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/2fa/", two_factor_views.TwoFactorVerifyPage.as_view(), name="two-factor-verify"),
    path(
        "accounts/2fa/setup/",
        two_factor_views.TwoFactorSetupPage.as_view(),
        name="two-factor-setup",
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path(
        "api/schema/",
        SpectacularAPIView.as_view(permission_classes=[IsAuthenticated]),
        name="api-schema",
    ),
    path(
        "api/docs/",
        # The split view serves its start-up script as a file (?script): no inline script (CSP).
        inline_styles_allowed(
            SpectacularSwaggerSplitView.as_view(
                url_name="api-schema", permission_classes=[IsAuthenticated]
            )
        ),
        name="api-docs",
    ),
    path("", include("conversations.urls")),
    path("", include("evaluation.urls")),
    path("", include("training_jobs.urls")),
]
