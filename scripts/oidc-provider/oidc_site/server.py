"""What the big providers (Entra ID, Okta, Keycloak, Google) do and django-oauth-toolkit's
device grant does not: a device-code token asked for with `openid` carries an ID token,
signed with the provider's key, with the person's verified email."""
import json

from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc8628.grant_types import DeviceCodeGrant
from oauthlib.openid.connect.core.endpoints.pre_configured import Server as OpenIdServer
from oauthlib.openid.connect.core.grant_types.base import GrantTypeBase
from oauth2_provider.oauth2_validators import OAuth2Validator


class Validator(OAuth2Validator):
    oidc_claim_scope = None

    def get_additional_claims(self, request):
        return {"email": request.user.email, "email_verified": True, "name": request.user.username}


class _IdToken(GrantTypeBase):
    def __init__(self, request_validator):
        self.request_validator = request_validator


class DeviceCodeWithIdToken(DeviceCodeGrant):
    def create_token_response(self, request, token_handler):
        headers = self._get_default_headers()
        try:
            self.validate_token_request(request)
        except errors.OAuth2Error as e:
            headers.update(e.headers)
            return headers, e.json, e.status_code
        token = token_handler.create_token(request, refresh_token=False)
        token = _IdToken(self.request_validator).add_id_token(token, token_handler, request)
        self.request_validator.save_token(token, request)
        return headers, json.dumps(token), 200


class Server(OpenIdServer):
    def __init__(self, request_validator, *args, **kwargs):
        super().__init__(request_validator, *args, **kwargs)
        grant = DeviceCodeWithIdToken(request_validator)
        # What django-oauth-toolkit set on its own (the pre-token step that names the user).
        grant.custom_validators = self.device_code_grant.custom_validators
        self.grant_types["urn:ietf:params:oauth:grant-type:device_code"] = grant
        self.device_code_grant = grant
