"""Which of the dashboard's head counts one answer hides, across its rows, bars and lines, so that
none under five can be worked out from a sum beside it (services/notify/disclosure.py). No I/O.

Cells: ("row", community, figure, label); ("bar", figure, label) and ("others", figure), the
scope's bars; ("line", community or None, figure), a line's whole-period total; ("step",
community or None, figure, step). Rows, bars and line totals do not depend on the lines' step, so
they are settled first (``hidden_counts``) and the steps after, with those kept as they are
(``hidden_steps``): every step of an answer agrees with its rows and bars."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from services.notify import dashboard
from services.notify.disclosure import Group, suppress

Cell = tuple[str | None, ...]
BARS = 15  # bars a figure shows at most; the rest are summed into one
# Kept per session: no line over time (services/gateway/dashboard_series.py), so no line totals.
PER_SESSION = frozenset(
    {
        dashboard.SIGNED_UP_BY_CATEGORY,
        dashboard.ADMITTED_BY_CATEGORY,
        dashboard.NO_SHOWS_BY_CATEGORY,
        dashboard.SIGNED_UP_BY_STATION,
        dashboard.ADMITTED_BY_STATION,
        dashboard.NO_SHOWS_BY_STATION,
        dashboard.PEOPLE_BY_AGE_BAND,
    }
)
# Two breakdowns of one total that is not shown: a community's people signed up, per category
# and per age band (every person signed up has a band, "unknown" at least).
SAME_TOTAL = ((dashboard.SIGNED_UP_BY_CATEGORY, dashboard.PEOPLE_BY_AGE_BAND),)


@dataclass(frozen=True)
class Bar:
    """A figure's count over the scope for one label, or (``folded`` > 0) for the smallest
    ``folded`` labels summed."""

    figure: str
    label: str
    value: int
    folded: int = 0

    @property
    def cell(self) -> Cell:
        return ("others", self.figure) if self.folded else ("bar", self.figure, self.label)


def bars(rows: Iterable[tuple[str, str, str, int]]) -> list[Bar]:
    """The counts (community, figure, label, value) summed over communities per figure and
    label, the largest first; past ``BARS`` of a figure, the rest summed into one bar."""
    summed: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for _community, figure, label, value in rows:
        summed[figure][label] += value
    found: list[Bar] = []
    for figure in sorted(summed):
        items = sorted(summed[figure].items(), key=lambda item: (-item[1], item[0]))
        found += [Bar(figure, label, value) for label, value in items[:BARS]]
        if len(items) > BARS:
            found.append(Bar(figure, "", sum(value for _, value in items[BARS:]), len(items) - BARS))
    return found


def _figure(cell: Cell) -> str:
    return str(cell[1] if cell[0] in ("bar", "others") else cell[2])


def _small(cell: Cell, value: int) -> bool:
    return _figure(cell) in dashboard.HEAD_COUNTS and 0 < value < dashboard.SMALL


def hidden_counts(rows: Sequence[tuple[str, str, str, int]]) -> frozenset[Cell]:
    """The rows', bars' and line totals' cells to hide, for the counts (community, figure,
    label, value) of one answer (head counts only: minutes and the median are never hidden)."""
    counted = [r for r in rows if r[1] in dashboard.HEAD_COUNTS and r[1] != dashboard.WISH_DAYS_TO_MET]
    values: dict[Cell, int] = {("row", c, f, label): v for c, f, label, v in counted}
    figure_bars: dict[str, list[Bar]] = defaultdict(list)
    for bar in bars(counted):
        values[bar.cell] = bar.value
        figure_bars[bar.figure].append(bar)
    by_label: dict[tuple[str, str], list[Cell]] = defaultdict(list)
    by_community: dict[tuple[str, str], list[Cell]] = defaultdict(list)
    for community, figure, label, _ in counted:
        by_label[(figure, label)].append(("row", community, figure, label))
        by_community[(figure, community)].append(("row", community, figure, label))
    groups: list[Group[Cell]] = []
    for figure, shown in sorted(figure_bars.items()):
        kept = {b.label for b in shown if not b.folded}
        for bar in shown:
            if bar.folded:
                labels = sorted({label for f, label in by_label if f == figure} - kept)
                parts = tuple(cell for label in labels for cell in by_label[(figure, label)])
            else:
                parts = tuple(by_label[(figure, bar.label)])
            groups.append(Group(bar.cell, parts))
        if figure in PER_SESSION:
            continue
        communities = sorted(c for f, c in by_community if f == figure)
        for community in communities:
            line: Cell = ("line", community, figure)
            parts = tuple(by_community[(figure, community)])
            values[line] = sum(values[p] for p in parts)
            groups.append(Group(line, parts))
        scope: Cell = ("line", None, figure)
        values[scope] = sum(b.value for b in shown)
        groups.append(Group(scope, tuple(("line", c, figure) for c in communities)))
        groups.append(Group(scope, tuple(b.cell for b in shown)))
    for pair in SAME_TOTAL:
        for community in sorted({c for f, c in by_community if f in pair}):
            groups.append(
                Group(None, tuple(cell for f in pair for cell in by_community.get((f, community), ())))
            )
        groups.append(Group(None, tuple(b.cell for f in pair for b in figure_bars.get(f, ()))))
    primary = [cell for cell, value in values.items() if _small(cell, value)]
    return suppress(values, primary, groups).hidden


def line_totals(rows: Sequence[tuple[str, str, str, int]]) -> dict[Cell, int]:
    """Each line's whole-period total as the rows give it: what ``hidden_counts`` settled."""
    found: dict[Cell, int] = defaultdict(int)
    for community, figure, _label, value in rows:
        if (
            figure in dashboard.HEAD_COUNTS
            and figure not in PER_SESSION
            and figure != dashboard.WISH_DAYS_TO_MET
        ):
            found[("line", community, figure)] += value
            found[("line", None, figure)] += value
    return dict(found)


def hidden_steps(
    lines: Sequence[dashboard.Line], counts: frozenset[Cell], read: Mapping[Cell, int] | None = None
) -> frozenset[Cell]:
    """The lines' cells to hide (their totals and steps), given what ``hidden_counts`` hides (the
    line totals stay as it left them). A figure whose steps cannot be covered without touching
    those has every step hidden: its lines then say no more than its totals. ``read``: the line
    totals as ``hidden_counts`` read them (``line_totals``); a total that has changed since (a
    count came in between the two reads of one answer) is not held as it was."""
    values: dict[Cell, int] = {}
    groups: list[Group[Cell]] = []
    totals: list[Cell] = []
    steps_of: dict[str, list[Cell]] = defaultdict(list)
    for line in lines:
        if line.figure not in dashboard.HEAD_COUNTS:
            continue
        total: Cell = ("line", line.community_id, line.figure)
        values[total] = line.total
        totals.append(total)
        steps: tuple[Cell, ...] = tuple(
            ("step", line.community_id, line.figure, str(i)) for i in range(len(line.values))
        )
        values.update(zip(steps, line.values, strict=True))
        steps_of[line.figure] += steps
        groups.append(Group(total, steps))
    for figure in sorted(steps_of):
        width = len(next(line.values for line in lines if line.figure == figure))
        communities = [line.community_id for line in lines if line.figure == figure and line.community_id]
        groups.append(Group(("line", None, figure), tuple(("line", c, figure) for c in communities)))
        for i in range(width):
            scope_step: Cell = ("step", None, figure, str(i))
            groups.append(Group(scope_step, tuple(("step", c, figure, str(i)) for c in communities)))
    primary = [cell for cell, value in values.items() if cell[0] == "step" and _small(cell, value)]
    # a total read small here though not in ``counts`` (a count that came in between the two
    # reads of one answer) is hidden all the same
    primary += [cell for cell in totals if cell in counts or _small(cell, values[cell])]
    held = totals if read is None else [cell for cell in totals if read.get(cell, 0) == values[cell]]
    done = suppress(values, primary, groups, frozen=held)
    hidden = set(done.hidden)
    for group in done.unprotected:
        hidden.update(steps_of[_figure(group.cells[0])])
    return frozenset(hidden)
