"""Pages of a list: a page's size (``first``, 1 to ``MAX_PAGE``), where it starts
(``after``: an opaque cursor, or the last id of the page before), and ``PageInfo``. A bad
cursor or size is the caller's mistake (``BadRequest``): shown, never masked.
"""

from __future__ import annotations

import base64

import strawberry

MAX_PAGE = 100


class BadRequest(ValueError):
    """The caller's mistake (a bad cursor, a page too large): shown, never masked."""


def cursor(index: int) -> str:
    return base64.urlsafe_b64encode(f"i:{index}".encode()).decode()


def offset(after: str | None) -> int:
    if not after:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(after.encode()).decode().partition(":")
        if kind == "i" and value.isdigit():
            return int(value) + 1
    except (ValueError, UnicodeDecodeError):
        pass
    raise BadRequest("invalid cursor")


def page_size(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise BadRequest(f"first must be between 1 and {MAX_PAGE}")
    return first


@strawberry.type(description="Where a page ends and whether another follows")
class PageInfo:
    has_next_page: bool = strawberry.field(description="another page follows this one")
    end_cursor: str | None = strawberry.field(
        description="the last item's cursor: pass it as `after` for the next page (null on an "
                    "empty page)")
