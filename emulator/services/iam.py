"""yandex.cloud.iam.v1.IamTokenService.Create: OAuth token or JWT -> IAM token."""

from __future__ import annotations

from google.protobuf.message import Message

from emulator.auth import Auth
from emulator.services import Call, Rpc
from emulator.services.operations import set_timestamp
from emulator.wire import message_class

SERVICE = "yandex.cloud.iam.v1.IamTokenService"


def rpcs(auth: Auth) -> list[Rpc]:
    def create(request: Message, call: Call) -> Message:
        # The annotations (exactly one of the two, and their lengths) are checked already.
        credential = getattr(request, request.WhichOneof("identity"))
        token, expires_ns = auth.issue_iam_token(credential)
        response = message_class("yandex.cloud.iam.v1.CreateIamTokenResponse")(iam_token=token)
        set_timestamp(response.expires_at, expires_ns)
        return response

    return [Rpc("Create", "yandex.cloud.iam.v1.CreateIamTokenRequest", create)]
