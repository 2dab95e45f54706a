from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from access import tokens, two_factor
from access.lockout import locked_out_message
from aftersales.api import error_responses
from aftersales.errors import LockedOut
from aftersales.parsers import JsonParser
from aftersales.throttles import IPBurstThrottle, LoginThrottle


class TokenView(APIView):
    """POST {"username", "password"} → {"token", "expiry"}; send it as `Authorization: Token <token>`.

    The password is checked through the same lockout as the admin's login (access.lockout), and who
    has set up two-factor also sends the app's code as `otp` (access.two_factor). Each login gets a
    new token (access.tokens: only its hash is kept, so an earlier one cannot be shown again)."""

    permission_classes = []
    throttle_classes = [LoginThrottle, IPBurstThrottle]
    parser_classes = [JsonParser]  # API.md speaks JSON
    renderer_classes = [JSONRenderer]
    serializer_class = AuthTokenSerializer  # username and password, through authenticate()

    @extend_schema(operation_id="obtain_token", tags=["auth"], auth=[],
                   request=inline_serializer("TokenInput", {
                       "username": serializers.CharField(), "password": serializers.CharField(),
                       "otp": serializers.CharField(required=False, help_text="the authenticator app's code, for"
                                                    " accounts with two-factor login")}),
                   responses={200: inline_serializer("TokenOutput", {
                       "token": serializers.CharField(),
                       "expiry": serializers.DateTimeField(allow_null=True, help_text=(
                           "when the token lapses if unused from now on (staff: each use pushes it out by"
                           " STAFF_TOKEN_IDLE_DAYS); null: never"))}),
                              **error_responses(400, 403)},
                   description="Rate-limited per address and account name (429). Too many wrong passwords lock the"
                               " login (429, `locked_out`). With two-factor login `otp` is required (400 naming it);"
                               " an account that must set it up first gets 403 `two_factor_setup_required`.")
    def post(self, request, *args, **kwargs):
        serializer = self.serializer_class(data=request.data, context={"request": request})
        if not serializer.is_valid():
            # The lockout backend refused the password unchecked, or this failure was the one that locked.
            if getattr(request, "axes_locked_out", False):
                raise LockedOut(locked_out_message())
            raise serializers.ValidationError(serializer.errors)
        user = serializer.validated_data["user"]
        two_factor.check_api_login(user, request.data.get("otp"))
        token, secret = tokens.issue_token(user)
        expiry = serializers.DateTimeField().to_representation(token.expiry) if token.expiry else None
        return Response({"token": secret, "expiry": expiry})


class TokenScheme(OpenApiAuthenticationExtension):
    """The schema's word for access.authentication (here: drf-spectacular's plumbing imports DRF's
    views, which that module must not)."""

    target_class = "access.authentication.RecordedTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")
