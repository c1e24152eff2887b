"""Community names for the API: what every type carrying a ``communityId`` shows as its
``communityName``. The directory's names are read once per request (a small table), then
answered from the request's context."""

from __future__ import annotations

from services.gateway.context import Info
from services.identity import domain, queries


async def community_names(info: Info) -> dict[str, str]:
    """id → name of every community in the directory, loaded once per request."""
    context = info.context
    if context.community_names is None:
        async with context.pool.acquire() as conn:
            context.community_names = await queries.community_names(conn)
    return context.community_names


async def community_name(info: Info, community_id: str) -> str:
    """A community's name; one not in the directory is named after its id."""
    return (await community_names(info)).get(community_id) or domain.name_from_id(community_id)


async def community_names_of(info: Info, community_ids: list[str]) -> list[str]:
    names = await community_names(info)
    return [names.get(c) or domain.name_from_id(c) for c in community_ids]
