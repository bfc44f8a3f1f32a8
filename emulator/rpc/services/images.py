"""yandex.cloud.containerregistry.v1.ImageService: List, Get and Delete."""

from __future__ import annotations

from google.protobuf.message import Message

from emulator.api.catalogue import Mutating, Read, Service
from emulator.api.filters import REPOSITORY_NAME_FILTER
from emulator.api.wire import CONTAINER_REGISTRY, message_class
from emulator.rpc.pipeline import Call, Handler, ServiceContext
from emulator.rpc.services.operations import new_operation, once, set_timestamp
from emulator.rpc.services.paged import ListSpec, page_of_store
from emulator.state.images import IMAGE_ORDERS
from emulator.state.records import Action, Image, Operation

LIST = ListSpec(
    scopes=(("repository_name", "repository"), ("registry_id", "registry"), ("folder_id", "folder")),
    filter=REPOSITORY_NAME_FILTER,
    orders=IMAGE_ORDERS,
)
SERVICE = Service(
    f"{CONTAINER_REGISTRY}.ImageService",
    endpoint="container-registry",
    methods_declared={
        "List": Read(lists="images", spec=LIST),
        "Get": Read(gets="image_id"),
        "Delete": Mutating(deferred=True, on="image_id"),
    },
)


def encode_image(image: Image, tags: list[str] | None = None) -> Message:
    config, layers, compressed_size = image.blobs()
    message = message_class(f"{CONTAINER_REGISTRY}.Image")(
        id=image.id,
        name=image.name,
        digest=image.digest,
        compressed_size=compressed_size,
        tags=image.tags if tags is None else tags,
    )
    _fill_blob(message.config, config)
    for layer in layers:
        _fill_blob(message.layers.add(), layer)
    set_timestamp(message.created_at, image.created_at_ns)
    return message


def framed_image(image: Image) -> bytes:
    """The image as field 1 of a ListImagesResponse (tag, length, serialized Image),
    encoded once and kept until the image changes: a List page is a join of these."""
    tags, cached = image.tags, image.wire
    if cached is not None and cached[0] is tags:
        return cached[1]
    framed = _length_delimited(1, encode_image(image, tags).SerializeToString())
    image.wire = (tags, framed)  # a racing tag move replaces image.tags, so this is never reused
    return framed


def image_bytes(image: Image) -> bytes:
    """The serialized Image: the framed form without its tag and length."""
    framed = framed_image(image)
    start = 2
    while framed[start - 1] & 0x80:  # the length is a varint: skip its continuation bytes
        start += 1
    return framed[start:]


def _length_delimited(field_number: int, payload: bytes) -> bytes:
    """One length-delimited field of a message, as protobuf lays it out on the wire."""
    header = bytearray([field_number << 3 | 2])
    size = len(payload)
    while size > 0x7F:
        header.append(size & 0x7F | 0x80)
        size >>= 7
    header.append(size)
    return bytes(header) + payload


def list_response_bytes(images: list[Image], next_page_token: str) -> bytes:
    """A serialized ListImagesResponse assembled from the images' cached wire forms."""
    parts = list(map(framed_image, images))
    if next_page_token:
        parts.append(_length_delimited(2, next_page_token.encode()))
    return b"".join(parts)


def _fill_blob(message: Message, blob) -> None:
    message.id, message.digest, message.size = blob.id, blob.digest, blob.size
    message.urls.extend(blob.urls)


def rpcs(context: ServiceContext) -> dict[str, Handler]:
    store, tokens = context.store, context.tokens

    def list_images(request: Message, call: Call) -> bytes:
        # The request's own rules first (its page token included), then existence, then access.
        query = LIST.parse(request, call.method.full)
        images, next_page_token = page_of_store(store, tokens, call, query, request.page_token, store.list_images)
        return list_response_bytes(images, next_page_token)

    def get_image(request: Message, call: Call) -> bytes:
        return image_bytes(store.get_image(request.image_id))

    def delete_image(request: Message, call: Call) -> Message:
        def perform() -> Operation:
            image, folder_id = store.get_image_and_folder(request.image_id)
            metadata = {"image_id": image.id}
            return new_operation(
                call, "Delete image", f"{CONTAINER_REGISTRY}.DeleteImageMetadata", metadata, folder_id,
                action=Action.DELETE_IMAGE, target=image.id,
            )  # fmt: skip

        return once(store, call, request, perform)

    return {"List": list_images, "Get": get_image, "Delete": delete_image}
