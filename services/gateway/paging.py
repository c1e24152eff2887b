"""The arguments every list field takes (services/common/paging.py holds the convention)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from services.common.paging import MAX_LIMIT

Limit = Annotated[
    int, strawberry.argument(description=f"How many items this page holds at most: 1 to {MAX_LIMIT}.")
]
After = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description="The id of the last item of the page before (none for the first page). "
        "A page shorter than limit is the last."
    ),
]
