"""yandex.cloud.iam.v1.IamTokenService.Create: OAuth token or JWT -> IAM token."""

from __future__ import annotations

from google.protobuf.message import Message

from emulator.services import Call, Rpc, ServiceContext
from emulator.services.operations import set_timestamp
from emulator.wire import message_class

SERVICE = "yandex.cloud.iam.v1.IamTokenService"
PUBLIC = True  # how a caller gets a token in the first place


def rpcs(context: ServiceContext) -> list[Rpc]:
    auth = context.auth

    def create(request: Message, call: Call) -> Message:
        # The annotations (exactly one of the two, and their lengths) are checked already.
        credential = getattr(request, request.WhichOneof("identity"))
        token, expires_ns = auth.issue_iam_token(credential)
        response = message_class("yandex.cloud.iam.v1.CreateIamTokenResponse")(iam_token=token)
        set_timestamp(response.expires_at, expires_ns)
        return response

    return [Rpc("Create", "yandex.cloud.iam.v1.CreateIamTokenRequest", create)]
