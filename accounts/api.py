"""The API's token endpoint: a username and password for a token, throttled and locked
like the login page."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.exceptions import APIException
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from accounts.lockout import client_ip, lockout_message, lockout_minutes
from accounts.selectors import token_expiry
from accounts.services import obtain_api_token


class TokenThrottle(SimpleRateThrottle):
    """Password guessing through the token endpoint: 10 tries a minute per client address
    (accounts.lockout.client_ip: X-Forwarded-For only as far as NUM_PROXIES trusts it),
    logged in or not."""

    scope = "auth-token"
    rate = "10/min"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request) or "unknown"}


class LoginLocked(APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"


class TokenRequestSerializer(AuthTokenSerializer):
    # Bounded like the login form: an attempt is recorded with its username (255 at most).
    username = serializers.CharField(label="Username", max_length=150, write_only=True)
    password = serializers.CharField(
        label="Password", max_length=4096, style={"input_type": "password"}, trim_whitespace=False, write_only=True
    )


TOKEN_ANSWER = inline_serializer(
    "Token",
    {
        "token": serializers.CharField(help_text="Send it as `Authorization: Token <key>`."),
        "expires": serializers.DateTimeField(allow_null=True, help_text="null: the token does not expire."),
    },
)
ERROR = inline_serializer("TokenError", {"detail": serializers.CharField()})


class ObtainTokenView(APIView):
    """Exchange a username and password for an API token (send it as `Authorization: Token <key>`).

    The user's current token is returned, or a new one when they have none or it expired.
    Failed tries count towards the login lockout (LOGIN_FAILURE_LIMIT) like the login page's."""

    # No authentication: a client whose token expired must still reach this to get a new one.
    authentication_classes = ()
    permission_classes = ()
    renderer_classes = [JSONRenderer]
    throttle_classes = [TokenThrottle]
    serializer_class = TokenRequestSerializer

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TOKEN_ANSWER,
            400: OpenApiResponse(description="Wrong username or password, or a field missing."),
            429: OpenApiResponse(ERROR, description="Too many tries: throttled, or logins locked out."),
        },
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        serializer = TokenRequestSerializer(data=request.data, context={"request": request})
        if not serializer.is_valid():
            # django-axes marks the request when this try reached, or met, a lockout.
            if getattr(request, "axes_locked_out", False):
                raise LoginLocked(lockout_message())
            raise serializers.ValidationError(serializer.errors)
        token = obtain_api_token(serializer.validated_data["user"])
        expiry = token_expiry(token)
        return Response({"token": token.key, "expires": expiry.at if expiry else None})

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(exc, LoginLocked):
            response["Retry-After"] = str(lockout_minutes() * 60)
        return response
