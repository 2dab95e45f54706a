from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response

from aftersales import two_factor
from aftersales.api import error_responses
from aftersales.errors import LockedOut
from aftersales.lockout import locked_out_message
from aftersales.parsers import JsonParser
from aftersales.throttles import IPBurstThrottle, LoginThrottle


class TokenView(ObtainAuthToken):
    """POST {"username", "password"} → {"token"}; send it as `Authorization: Token <token>`.

    The password is checked through the same lockout as the admin's login (aftersales.lockout), and who
    has set up two-factor also sends the app's code as `otp` (aftersales.two_factor)."""

    throttle_classes = [LoginThrottle, IPBurstThrottle]  # DRF leaves this view unthrottled
    parser_classes = [JsonParser]  # DRF's view also takes forms; API.md speaks JSON

    @extend_schema(operation_id="obtain_token", tags=["auth"], auth=[],
                   request=inline_serializer("TokenInput", {
                       "username": serializers.CharField(), "password": serializers.CharField(),
                       "otp": serializers.CharField(required=False, help_text="the authenticator app's code, for"
                                                    " accounts with two-factor login")}),
                   responses={200: inline_serializer("TokenOutput", {"token": serializers.CharField()}),
                              **error_responses(400, 403)},
                   description="Rate-limited per address and account name (429). Too many wrong passwords lock the"
                               " login (429, `locked_out`). With two-factor login `otp` is required (400 naming it);"
                               " an account that must set it up first gets 403 `two_factor_setup_required`.")
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            # The lockout backend refused the password unchecked, or this failure was the one that locked.
            if getattr(request, "axes_locked_out", False):
                raise LockedOut(locked_out_message())
            raise serializers.ValidationError(serializer.errors)
        user = serializer.validated_data["user"]
        two_factor.check_api_login(user, request.data.get("otp"))
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
