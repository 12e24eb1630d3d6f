import json

from django.contrib.auth import get_user_model
from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.models import get_device_grant_model
from oauth2_provider.views import ConnectDiscoveryInfoView


class Discovery(ConnectDiscoveryInfoView):
    """Discovery naming the device authorization endpoint, as providers with the device
    grant publish it (RFC 8628, section 4)."""

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        data["device_authorization_endpoint"] = data["issuer"] + "/device-authorization/"
        data["grant_types_supported"] = ["urn:ietf:params:oauth:grant-type:device_code"]
        return JsonResponse(data)


@csrf_exempt
def approve(request):
    """The person at the browser: signs in as `user` and approves (or denies) the device
    whose code they were shown, as django-oauth-toolkit's own device pages record it."""
    body = json.loads(request.body)
    grant = get_device_grant_model().objects.get(user_code=body["user_code"])
    if grant.is_expired():
        return JsonResponse({"error": "expired"}, status=400)
    grant.user = get_user_model().objects.get(username=body["user"])
    # "expire" stands for the person coming back after the code's lifetime.
    grant.status = {"accept": grant.AUTHORIZED, "deny": grant.DENIED, "expire": grant.EXPIRED}[
        body["action"]
    ]
    grant.save(update_fields=["user", "status"])
    return JsonResponse({"status": grant.status})


urlpatterns = [
    path("o/.well-known/openid-configuration", Discovery.as_view()),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("test/approve", approve),
]
