from django.contrib.auth.models import User
from oauth2_provider.models import Application

for name in ("ada", "zed"):
    User.objects.create_user(name, f"{name}@example.edu", "correct horse battery staple")
Application.objects.create(
    name="proctor-review console",
    client_id="proctor-review-console",
    client_type=Application.CLIENT_PUBLIC,
    authorization_grant_type=Application.GRANT_DEVICE_CODE,
    algorithm=Application.RS256_ALGORITHM,
    skip_authorization=False,
)
