"""The API's token authentication (django-rest-knox tokens, access.tokens). Its own module: DRF imports
it from the settings while other modules import DRF, so what imports DRF's views is imported late."""

from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication
from rest_framework import exceptions

from access import tokens
from aftersales import history_context


class RecordedTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <token>`: the token's hash is looked up (one query, with the user), a lapsed
    token is refused, a staff token's idle expiry is pushed out. Then, whatever the token's age, a user
    who must have two-factor and has not set it up is refused on every endpoint (403
    `two_factor_setup_required`): here, so no view can forget it. The user found is written into the
    request's history rows: Django's middleware cannot know a token's user
    (aftersales.middleware.HistoryContextMiddleware)."""

    def authenticate_credentials(self, key: bytes):
        secret = key.decode("latin-1")  # as the header came; a token is hex (knox's, and DRF's moved over)
        token = tokens.find_token(secret) if secret.isascii() and secret.isalnum() else None
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user, token = self.validate_user(token)  # an inactive user: 401
        # two_factor imports DRF's views, which import this module (see the docstring): imported late.
        from access import two_factor

        two_factor.check_api_token(user)
        tokens.renew(token)
        history_context.add(user=user.pk, username=user.get_username())
        return user, token
