"""Update requests' ``update_mask``: which fields an Update changes."""

from __future__ import annotations

from google.protobuf.message import Message

from emulator.api.errors import InvalidArgument


def fields_to_update(request: Message, updatable: tuple[str, ...]) -> set[str]:
    """The mask's paths, each one of ``updatable`` (else INVALID_ARGUMENT naming update_mask); an
    empty mask means every updatable field the request sets (a message field: present)."""
    paths = set(request.update_mask.paths)
    unknown = sorted(paths - set(updatable))
    if unknown:
        raise InvalidArgument.field(
            "update_mask", f"{unknown[0]!r} is not a field that can be updated (only {', '.join(updatable)})"
        )
    if paths:
        return paths
    fields = request.DESCRIPTOR.fields_by_name
    return {
        name
        for name in updatable
        if (request.HasField(name) if _singular_message(fields[name]) else bool(getattr(request, name)))
    }


def _singular_message(field) -> bool:
    return field.message_type is not None and not field.is_repeated and not field.message_type.GetOptions().map_entry
