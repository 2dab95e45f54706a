from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken

from aftersales.api import error_responses
from aftersales.parsers import JsonParser
from aftersales.throttles import IPBurstThrottle, LoginThrottle


class TokenView(ObtainAuthToken):
    """POST {"username", "password"} → {"token"}; send it as `Authorization: Token <token>`."""

    throttle_classes = [LoginThrottle, IPBurstThrottle]  # DRF leaves this view unthrottled
    parser_classes = [JsonParser]  # DRF's view also takes forms; API.md speaks JSON

    @extend_schema(operation_id="obtain_token", tags=["auth"], auth=[],
                   request=inline_serializer("TokenInput", {"username": serializers.CharField(),
                                                            "password": serializers.CharField()}),
                   responses={200: inline_serializer("TokenOutput", {"token": serializers.CharField()}),
                              **error_responses(400)}, description="Rate-limited per address and account name (429).")
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

