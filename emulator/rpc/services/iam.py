"""yandex.cloud.iam.v1.IamTokenService.Create: OAuth token or JWT -> IAM token."""

from __future__ import annotations

from google.protobuf.message import Message

from emulator.api.catalogue import Read, Service
from emulator.api.wire import message_class
from emulator.rpc.pipeline import Call, Handler, ServiceContext
from emulator.rpc.services.operations import set_timestamp

SERVICE = Service(
    "yandex.cloud.iam.v1.IamTokenService",
    endpoint="iam",
    # Create trades a credential for a token and changes no resource: a read, as the contract client sees it.
    methods_declared={"Create": Read()},
    public=True,  # how a caller gets a token in the first place
)


def rpcs(context: ServiceContext) -> dict[str, Handler]:
    auth = context.auth

    def create(request: Message, call: Call) -> Message:
        # The annotations (exactly one of the two, and their lengths) are checked already.
        credential = getattr(request, request.WhichOneof("identity"))
        token, expires_ns = auth.issue_iam_token(credential)
        response = message_class("yandex.cloud.iam.v1.CreateIamTokenResponse")(iam_token=token)
        set_timestamp(response.expires_at, expires_ns)
        return response

    return {"Create": create}
