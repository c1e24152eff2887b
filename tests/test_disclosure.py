"""Secondary suppression: once small counts are hidden, no sum shown beside its parts gives one
away; and the dashboard's rows, bars and lines hide alike."""

from __future__ import annotations

import random

from services.notify.dashboard import Line
from services.notify.dashboard_hiding import hidden_counts, hidden_steps, line_totals
from services.notify.disclosure import HIDDEN, Group, hidden_mark, suppress


def table(
    cells: dict[tuple[int, int], int],
) -> tuple[dict[tuple[str, ...], int], list[Group[tuple[str, ...]]]]:
    """A table with its row and column sums and grand total, as cells and additive groups."""
    rows = sorted({r for r, _ in cells})
    columns = sorted({c for _, c in cells})
    values: dict[tuple[str, ...], int] = {("cell", str(r), str(c)): v for (r, c), v in cells.items()}
    groups: list[Group[tuple[str, ...]]] = []
    for r in rows:
        parts = tuple(("cell", str(r), str(c)) for c in columns)
        values[("row", str(r))] = sum(values[p] for p in parts)
        groups.append(Group(("row", str(r)), parts))
    for c in columns:
        parts = tuple(("cell", str(r), str(c)) for r in rows)
        values[("column", str(c))] = sum(values[p] for p in parts)
        groups.append(Group(("column", str(c)), parts))
    values[("all",)] = sum(v for k, v in values.items() if k[0] == "cell")
    groups.append(Group(("all",), tuple(("row", str(r)) for r in rows)))
    groups.append(Group(("all",), tuple(("column", str(c)) for c in columns)))
    return values, groups


def small(values: dict[tuple[str, ...], int]) -> list[tuple[str, ...]]:
    return [k for k, v in values.items() if 0 < v < 5]


def test_a_total_beside_its_parts_no_longer_gives_the_small_one_away() -> None:
    values, groups = table({(0, 0): 3, (1, 0): 10})  # one activity: 3 here, 10 there
    hidden = suppress(values, small(values), groups).hidden
    assert ("cell", "0", "0") in hidden  # the 3
    assert ("cell", "1", "0") in hidden  # the 10 beside it, else 13 - 10 = 3
    assert hidden_mark(3, 5) == "<5" and hidden_mark(10, 5) == HIDDEN


def test_the_smallest_part_is_hidden_second_and_zeros_stay_shown() -> None:
    values, groups = table(
        {(0, 0): 2, (0, 1): 0, (0, 2): 9, (0, 3): 7, (1, 0): 20, (1, 1): 0, (1, 2): 30, (1, 3): 40}
    )
    hidden = suppress(values, small(values), groups).hidden
    assert ("cell", "0", "3") in hidden  # the 7 rather than the 9
    assert ("cell", "0", "1") not in hidden and ("cell", "1", "1") not in hidden


def test_frozen_cells_keep_their_state_and_a_group_that_cannot_be_covered_is_reported() -> None:
    values = {"total": 8, "a": 3, "b": 5, "c": 0}
    done = suppress(values, ["a"], [Group("total", ("a", "b", "c"))], frozen=["b"])
    assert done.hidden == {"a", "total"}  # b may not change: the total is hidden instead
    stuck = suppress(values, ["a"], [Group("total", ("a", "b", "c"))], frozen=["b", "total"])
    assert stuck.hidden == {"a"} and stuck.unprotected == (Group("total", ("a", "b", "c")),)


def test_on_many_random_tables_every_group_has_none_or_two_hidden_and_it_is_stable() -> None:
    chance = random.Random(25)
    for _ in range(400):
        rows, columns = chance.randint(1, 5), chance.randint(1, 5)
        cells = {
            (r, c): chance.choice([0, 0, 1, 2, 3, 4, 5, 6, 8, 12, 30])
            for r in range(rows)
            for c in range(columns)
        }
        values, groups = table(cells)
        first = small(values)
        done = suppress(values, first, groups)
        assert set(first) <= done.hidden and not done.unprotected
        assert all(v != 0 for k, v in values.items() if k in done.hidden and k not in first)
        for group in groups:
            assert sum(1 for c in group.cells if c in done.hidden) != 1, (cells, group)
        shown = {k: hidden_mark(v, 5) if k in done.hidden else str(v) for k, v in values.items()}
        assert all(shown[k] == str(v) for k, v in values.items() if k not in done.hidden)
        assert all(shown[k] in ("<5", HIDDEN) for k in done.hidden)
        assert suppress(values, done.hidden, groups).hidden == done.hidden  # idempotent
        assert suppress(values, first, groups).hidden == done.hidden  # deterministic


def test_the_dashboards_rows_bars_and_lines_hide_the_same_sign_ups() -> None:
    rows = [("a", "signups_confirmed", "义诊", 3), ("b", "signups_confirmed", "义诊", 10)]
    rows += [("b", "signups_confirmed", "理发", 12), ("a", "volunteer_minutes", "", 3)]
    hidden = hidden_counts(rows)
    assert ("row", "a", "signups_confirmed", "义诊") in hidden
    assert ("row", "b", "signups_confirmed", "义诊") in hidden  # else the bar of 13 gives the 3
    assert ("line", "a", "signups_confirmed") in hidden  # a's total is its 3
    assert all(cell[2] != "volunteer_minutes" for cell in hidden if cell[0] in ("row", "line"))
    # b's 22 beside its 12 would give the 10, the scope's 25 beside b's 22 the 3: with two
    # communities and three counts, only the scope's 25 can be shown
    assert ("row", "b", "signups_confirmed", "理发") in hidden and (
        "line",
        "b",
        "signups_confirmed",
    ) in hidden
    assert ("line", None, "signups_confirmed") not in hidden

    lines = [
        Line("signups_confirmed", None, (3, 10, 12)),
        Line("signups_confirmed", "a", (3, 0, 0)),
        Line("signups_confirmed", "b", (0, 10, 12)),
    ]
    steps = hidden_steps(lines, hidden)
    assert ("step", "a", "signups_confirmed", "0") in steps
    assert ("step", None, "signups_confirmed", "0") in steps  # the scope's 3 at that step
    # b's 22 is hidden (above), so its 10 may be the only step of its line hidden; the scope's 3
    # and 10 are both hidden beside its 25 and its 12
    assert ("step", "b", "signups_confirmed", "1") in steps and (
        "step",
        None,
        "signups_confirmed",
        "1",
    ) in steps
    assert ("step", "b", "signups_confirmed", "2") not in steps
    scope = [c for c in steps if c[1] is None]
    assert len(scope) != 1


def test_a_communitys_age_bands_and_categories_are_two_breakdowns_of_one_total() -> None:
    rows = [("a", "signed_up_by_category", "文体", 33)]
    rows += [("a", "people_by_age_band", band, n) for band, n in (("<18", 3), ("18-59", 10), ("60-79", 20))]
    hidden = hidden_counts(rows)
    assert ("row", "a", "people_by_age_band", "<18") in hidden
    assert ("row", "a", "people_by_age_band", "18-59") in hidden  # else 33 - 10 - 20 = 3


def test_lines_over_any_step_hide_what_their_totals_leave_exposed() -> None:
    chance = random.Random(7)
    for _ in range(100):
        communities = ["a", "b", "c"][: chance.randint(1, 3)]
        width = chance.randint(1, 6)
        per = {c: tuple(chance.choice([0, 0, 1, 3, 6, 9, 20]) for _ in range(width)) for c in communities}
        rows = [(c, "wishes_met", "", sum(v)) for c, v in per.items() if sum(v)]
        counts = hidden_counts(rows)
        scope = tuple(sum(v[i] for v in per.values()) for i in range(width))
        drawn = [Line("wishes_met", None, scope), *(Line("wishes_met", c, v) for c, v in per.items())]
        steps = hidden_steps(drawn, counts)
        for line in drawn:
            cells = (
                [("line", line.community_id, "wishes_met")]
                if (("line", line.community_id, "wishes_met") in counts)
                else []
            )
            cells += [("step", line.community_id, "wishes_met", str(i)) for i in range(width)]
            assert len([c for c in cells if c in counts or c in steps]) != 1, (per, counts, steps)
        for i in range(width):
            column = [("step", c, "wishes_met", str(i)) for c in [None, *per]]
            assert len([c for c in column if c in steps]) != 1, (per, steps)


def test_a_line_total_that_came_in_small_between_the_two_reads_is_hidden_all_the_same() -> None:
    rows = [("a", "wishes_met", "", 12)]  # b had none when the rows were read
    drawn = [
        Line("wishes_met", None, (12, 2)),
        Line("wishes_met", "a", (12, 0)),
        Line("wishes_met", "b", (0, 2)),
    ]
    steps = hidden_steps(drawn, hidden_counts(rows), line_totals(rows))
    assert ("line", "b", "wishes_met") in steps and ("step", "b", "wishes_met", "1") in steps
    assert ("step", None, "wishes_met", "1") in steps  # the scope's 2 at that step
    assert ("line", None, "wishes_met") in steps  # the scope's 14 less a's 12: no longer as read
