"""Secondary (complementary) suppression: which further cells of a table to hide so that no hidden
count can be worked out from a sum shown beside its parts. No I/O.

A group is cells that add up: a margin and its parts, or two breakdowns of one total. Where a
group has exactly one hidden cell, the others give it away; so, until no group has exactly one,
the smallest non-zero visible part of such a group is hidden too (its margin when no part will
do). A heuristic: it stops each single-cell subtraction, not every chain of equations (see the
README, "工作看板")."""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

Cell = TypeVar("Cell", bound=Hashable)


@dataclass(frozen=True)
class Group(Generic[Cell]):
    """``margin`` is the sum of ``parts``; with no margin, the parts are two breakdowns of one
    total that is not shown (their difference is zero): one hidden cell among them is as exposed."""

    margin: Cell | None
    parts: tuple[Cell, ...]

    @property
    def cells(self) -> tuple[Cell, ...]:
        return self.parts if self.margin is None else (self.margin, *self.parts)


@dataclass(frozen=True)
class Suppression(Generic[Cell]):
    hidden: frozenset[Cell]
    unprotected: tuple[Group[Cell], ...]  # groups left with one hidden cell: nothing more could be hidden


def suppress(
    values: Mapping[Cell, int],
    primary: Iterable[Cell],
    groups: Sequence[Group[Cell]],
    frozen: Collection[Cell] = (),
) -> Suppression[Cell]:
    """The cells to hide: ``primary`` (the small ones) and as many more as it takes for no group
    to have exactly one hidden cell. ``frozen`` cells keep the state they have (hidden when in
    ``primary``): already shown or hidden elsewhere in the same answer. Deterministic: groups are
    visited in the order given, ties between equal values go to the part listed first. A cell
    missing from ``values`` counts as 0."""
    hidden = set(primary)
    frozen_set = set(frozen)
    of_cell: dict[Cell, list[int]] = {}
    for i, group in enumerate(groups):
        for cell in group.cells:
            of_cell.setdefault(cell, []).append(i)

    def value(cell: Cell) -> int:
        return values.get(cell, 0)

    def pinned(cell: Cell, within: int) -> bool:
        """Hiding ``cell`` would leave another group with it as its only hidden cell and nothing
        else to hide (its other cells zero or frozen shown): hiding it protects nothing."""
        return any(
            i != within
            and all(
                c == cell or (c not in hidden and (value(c) == 0 or c in frozen_set)) for c in groups[i].cells
            )
            for i in of_cell.get(cell, ())
        )

    def hideable(cell: Cell, within: int) -> bool:
        return cell not in hidden and cell not in frozen_set and value(cell) != 0 and not pinned(cell, within)

    def second(i: int) -> Cell | None:
        group = groups[i]
        order = sorted(range(len(group.parts)), key=lambda n: (abs(value(group.parts[n])), n))
        found = next((group.parts[n] for n in order if hideable(group.parts[n], i)), None)
        if found is None and group.margin is not None and hideable(group.margin, i):
            return group.margin
        return found

    waiting = deque(range(len(groups)))
    queued = set(waiting)
    unprotected: set[int] = set()
    while waiting:
        i = waiting.popleft()
        queued.discard(i)
        if sum(1 for c in groups[i].cells if c in hidden) != 1:
            unprotected.discard(i)
            continue
        chosen = second(i)
        if chosen is None:
            unprotected.add(i)
            continue
        unprotected.discard(i)
        hidden.add(chosen)
        for j in of_cell[chosen]:
            if j not in queued:
                waiting.append(j)
                queued.add(j)
    still = [i for i in sorted(unprotected) if sum(1 for c in groups[i].cells if c in hidden) == 1]
    return Suppression(frozenset(hidden), tuple(groups[i] for i in still))


def hidden_mark(value: int, small: int) -> str:
    """How a hidden count reads: "<5" when it is small, else a neutral mark (it was hidden so that
    a small one beside it cannot be worked out)."""
    return f"<{small}" if value < small else HIDDEN


HIDDEN = "—"
