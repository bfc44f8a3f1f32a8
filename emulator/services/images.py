"""yandex.cloud.containerregistry.v1.ImageService: List, Get and Delete."""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.message import Message

from emulator.errors import InvalidArgument
from emulator.filters import NameFilter, parse_filter
from emulator.listing import Scope, UnknownCursor
from emulator.ordering import parse_order_by
from emulator.records import Image, Operation
from emulator.services import Call, Rpc, ServiceContext
from emulator.services.operations import encode_operation, set_timestamp
from emulator.store import now_ns
from emulator.wire import CONTAINER_REGISTRY, message_class

SERVICE = f"{CONTAINER_REGISTRY}.ImageService"
PUBLIC = False
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def encode_image(image: Image, tags: list[str] | None = None) -> Message:
    message = message_class(f"{CONTAINER_REGISTRY}.Image")(
        id=image.id,
        name=image.name,
        digest=image.digest,
        compressed_size=image.compressed_size,
        tags=image.tags if tags is None else tags,
    )
    _fill_blob(message.config, image.config)
    for layer in image.layers:
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


def scope_of(request: Message) -> Scope:
    """repository_name wins over registry_id, which wins over folder_id."""
    if request.repository_name:
        return Scope("repository", request.repository_name)
    if request.registry_id:
        return Scope("registry", request.registry_id)
    if request.folder_id:
        return Scope("folder", request.folder_id)
    raise InvalidArgument.field("folder_id", "one of repository_name, registry_id or folder_id is required")


def page_size_of(request: Message) -> int:
    if request.page_size < 0:
        raise InvalidArgument.field("page_size", f"must be >= 0, got {request.page_size}")
    if request.page_size > MAX_PAGE_SIZE:  # also an annotation; kept so the rule reads whole here
        raise InvalidArgument.field("page_size", f"must be <= {MAX_PAGE_SIZE}, got {request.page_size}")
    return request.page_size or DEFAULT_PAGE_SIZE


@dataclass(frozen=True)
class ListQuery:
    """A List request's rules that are not annotations, parsed."""

    scope: Scope
    name_filter: NameFilter | None
    order: str
    descending: bool
    limit: int

    @classmethod
    def parse(cls, request: Message) -> ListQuery:
        """Parse every rule; report all broken ones together, like the annotations."""
        parts, violations = [], []
        for parse in (scope_of, lambda r: parse_filter(r.filter), lambda r: parse_order_by(r.order_by), page_size_of):
            try:
                parts.append(parse(request))
            except InvalidArgument as error:
                violations.extend(error.violations)
        if violations:
            raise InvalidArgument(violations)
        scope, name_filter, (order, descending), limit = parts
        return cls(scope, name_filter, order, descending, limit)

    def fingerprint(self) -> str:
        """What a page token is bound to: everything but the page size."""
        canonical_filter = self.name_filter.canonical() if self.name_filter else ""
        return "|".join((self.scope.kind, self.scope.value, canonical_filter, self.order, str(self.descending)))


def rpcs(context: ServiceContext) -> list[Rpc]:
    store, tokens = context.store, context.tokens

    def list_images(request: Message, call: Call) -> bytes:
        # The request's own rules first (its page token included), then existence, then access.
        query = ListQuery.parse(request)
        name_filter = query.name_filter
        fingerprint = query.fingerprint()
        after = tokens.read(fingerprint, request.page_token) if request.page_token else None
        with store.atomic():  # one consistent state for the folder check and the page
            call.authorize(store.folder_of(query.scope))
            try:
                images, next_cursor = store.list_images(
                    query.scope,
                    names_in=name_filter.names if name_filter and not name_filter.negated else None,
                    names_not_in=name_filter.names if name_filter and name_filter.negated else (),
                    order=query.order,
                    descending=query.descending,
                    after=after,
                    limit=query.limit,
                )
            except UnknownCursor:
                raise InvalidArgument.field("page_token", "is not a token this emulator issued") from None
        next_page_token = tokens.issue(fingerprint, next_cursor) if next_cursor else ""
        return list_response_bytes(images, next_page_token)

    def get_image(request: Message, call: Call) -> bytes:
        image, folder_id = store.get_image_and_folder(request.image_id)
        call.authorize(folder_id)
        return image_bytes(image)

    def delete_image(request: Message, call: Call) -> Message:
        key = call.idempotency_key and f"{call.principal.subject}/Delete/{call.idempotency_key}"
        with store.atomic():
            # A Delete repeated with the same idempotency key gets the first answer again.
            done_before = key and store.operation_for_key(key)
            if done_before:
                if done_before.metadata.get("image_id") != request.image_id:
                    raise InvalidArgument.field(
                        "idempotency-key", "was already used for a Delete of another image"
                    )
                call.authorize(done_before.folder_id)
                return encode_operation(done_before)
            image, folder_id = store.get_image_and_folder(request.image_id)
            call.authorize(folder_id)
            store.delete_image(image.id)
            now = now_ns()
            operation = store.add_operation(
                Operation(
                    id=store.ids.new_id(),
                    description="Delete image",
                    created_at_ns=now,
                    created_by=call.principal.subject,
                    modified_at_ns=now,
                    done=True,
                    metadata_type=f"{CONTAINER_REGISTRY}.DeleteImageMetadata",
                    metadata={"image_id": image.id},
                    response_type="google.protobuf.Empty",
                    folder_id=folder_id,
                    idempotency_key=key or None,
                )
            )
        return encode_operation(operation)

    return [
        Rpc("List", f"{CONTAINER_REGISTRY}.ListImagesRequest", list_images),
        Rpc("Get", f"{CONTAINER_REGISTRY}.GetImageRequest", get_image),
        Rpc("Delete", f"{CONTAINER_REGISTRY}.DeleteImageRequest", delete_image),
    ]
