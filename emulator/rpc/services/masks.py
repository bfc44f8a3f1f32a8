"""Update requests' ``update_mask``: which fields an Update changes."""

from __future__ import annotations

from google.protobuf.message import Message

from emulator.api.errors import InvalidArgument


def fields_to_update(request: Message, updatable: tuple[str, ...]) -> set[str]:
    """The mask's paths, each one of ``updatable`` (else INVALID_ARGUMENT naming update_mask); an
    empty mask means every updatable field, those the request leaves unset reset to their defaults
    (the API design guide's Update: "If no update_mask is passed in the request, the values of all
    fields will be updated": "the values of the other fields will be reset to their defaults")."""
    paths = set(request.update_mask.paths)
    unknown = sorted(paths - set(updatable))
    if unknown:
        raise InvalidArgument.field(
            "update_mask", f"{unknown[0]!r} is not a field that can be updated (only {', '.join(updatable)})"
        )
    return paths or set(updatable)
