"""Scenario discovery: PRIM boxes, CART, feature scores, conditions, and the commands.

The analysis is checked on synthetic run tables whose answer is known (a condition true
exactly inside a box of two of five uniform inputs); the commands on a sweep folder whose
runs are a stand-in with the same kind of known answer, so no model runs here.
"""

import ast
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dualpower_sim import discover
from dualpower_sim.cli import main
from dualpower_sim.discovery import (
    DiscoveryError,
    MissingExtraError,
    frequent_outcomes,
    parse_condition,
)

INPUTS = list("abcde")
#: The true box: 0.2 <= a <= 0.6 and c >= 0.5 (b, d, e do not matter).
TRUTH = {"a": (0.2, 0.6), "c": (0.5, None)}
#: How close PRIM's limits come to the truth with 300 uniform runs: PRIM peels 5% of the runs
#: left at a time, so a limit lands within a slice of the edge (0.047 at worst over 10 seeds).
TOLERANCE = 0.06


def box_table(seed: int, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    runs = pd.DataFrame(rng.uniform(size=(n, 5)), columns=INPUTS)
    inside = runs["a"].between(0.2, 0.6) & (runs["c"] >= 0.5)
    runs["outcome"] = np.where(inside, "council_power", "state_restored")
    runs["status"] = "done"
    return runs


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.slow
def test_prim_recovers_a_known_box_on_two_of_five_inputs(seed):
    found = discover(box_table(seed), "council_power", inputs=INPUTS, resamples=0, seed=seed)
    box = found.box
    assert set(box.index) == {"a", "c"}  # b, d and e are left alone
    assert abs(box.loc["a", "low"] - 0.2) < TOLERANCE
    assert abs(box.loc["a", "high"] - 0.6) < TOLERANCE
    assert abs(box.loc["c", "low"] - 0.5) < TOLERANCE
    assert np.isnan(box.loc["c", "qp_high"])  # c is open upwards, as in the truth
    assert (box[["qp_low"]].loc[["a", "c"]] < 0.001).all().all()  # each cut is significant
    assert found.coverage >= 0.9 and found.density >= 0.95
    assert found.base_rate == pytest.approx(found.cases / found.runs)
    # The runs it calls inside are the box's.
    assert found.inside().sum() == found.trajectory.loc[found.chosen, "runs"]


def test_cart_and_feature_scores_point_at_the_same_parameters():
    found = discover(box_table(4), "council_power", inputs=INPUTS, resamples=0, seed=4)
    assert set(found.scores.index[:2]) == {"a", "c"}
    assert found.scores.sum() == pytest.approx(1.0)
    best = found.tree.iloc[0]
    assert best["density"] == 1.0 and best["coverage"] > 0.8
    assert "a" in best["rule"] and "c" in best["rule"] and " b " not in f" {best['rule']} "


@pytest.mark.slow
def test_stability_check_and_every_draw_follow_the_seed():
    runs = box_table(5, n=240)
    one = discover(runs, "council_power", inputs=INPUTS, resamples=4, seed=11)
    again = discover(runs, "council_power", inputs=INPUTS, resamples=4, seed=11)
    stability = one.stability
    assert (stability.loc[["a", "c"]] >= 0.75).all().all()
    # The box's parameters come back in more halves than any other (halves overfit a little).
    assert stability.loc[["a", "c"]].min().min() > stability.loc[["b", "d", "e"]].max().max()
    pd.testing.assert_frame_equal(stability, again.stability)
    pd.testing.assert_series_equal(one.scores, again.scores)
    pd.testing.assert_frame_equal(one.tree, again.tree)
    # A SeedSequence (or a Generator) is taken as well as a number, and draws the same.
    from_sequence = discover(
        runs, "council_power", inputs=INPUTS, resamples=0, seed=np.random.SeedSequence(11)
    )
    assert from_sequence.resampled == () and from_sequence.stability.empty
    pd.testing.assert_series_equal(from_sequence.scores, one.scores)  # the trees drew alike


def test_a_box_that_chance_explains_is_shown_and_said_to_be_chance(tmp_path):
    from dualpower_sim.report import _discovery_markdown, _Figures

    rng = np.random.default_rng(3)
    runs = pd.DataFrame(rng.uniform(size=(200, 5)), columns=INPUTS)
    runs["outcome"] = np.where(rng.random(200) < 0.3, "co_opted", "unresolved")  # no structure
    found = discover(runs, "co_opted", inputs=INPUTS, resamples=0)
    assert (found.box[["qp_low", "qp_high"]].min(axis=1) >= 0.05).all()
    text = "\n".join(_discovery_markdown([found], _Figures(tmp_path), "footer"))
    assert "No restriction is significant" in text
    assert "(not significant)" in text and f"| `{found.restricted[0]}` |" in text


def test_selecting_another_box_on_the_trajectory():
    found = discover(box_table(6), "council_power", inputs=INPUTS, resamples=0)
    first = found.select(1)
    assert first.chosen == 1 and first.coverage == 1.0 and len(first.restricted) == 1
    assert found.select(-1).chosen == len(found.trajectory) - 1
    with pytest.raises(IndexError):
        found.select(len(found.trajectory))


def test_a_restriction_that_adds_nothing_is_dropped():
    # The condition depends on a alone; whatever else PRIM cuts on the way is chance.
    rng = np.random.default_rng(8)
    runs = pd.DataFrame(rng.uniform(size=(300, 5)), columns=INPUTS)
    noisy = rng.random(300) < np.where(runs["a"] > 0.5, 0.8, 0.1)
    runs["outcome"] = np.where(noisy, "co_opted", "unresolved")
    found = discover(runs, "co_opted", inputs=INPUTS, resamples=0)
    assert found.restricted == ["a"]
    assert abs(found.box.loc["a", "low"] - 0.5) < 0.1


# --------------------------------------------------------------------------------------------
# Conditions
# --------------------------------------------------------------------------------------------

RUNS = pd.DataFrame(
    {
        "outcome": pd.array(
            ["council_power", "state_restored", "council_power", "unresolved"], dtype="string"
        ),
        "resolved_step": pd.array([40, 120, 95, None], dtype="Int64"),
        "peak_council_power": [0.7, 0.3, 0.65, 0.5],
    }
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("resolved_step < 90", [True, False, False, False]),  # no value: not met
        ("resolved_step != 95", [True, True, False, False]),
        ('outcome == "council_power"', [True, False, True, False]),
        ("outcome = 'unresolved'", [False, False, False, True]),
        ("peak_council_power > 0.6 and resolved_step >= 90", [False, False, True, False]),
        ('not outcome == "council_power" or resolved_step < 50', [True, True, False, True]),
        # and binds tighter than or; parentheses override
        (
            'outcome == "unresolved" or outcome == "council_power" and resolved_step < 90',
            [True, False, False, True],
        ),
        (
            '(outcome == "unresolved" or outcome == "council_power") and resolved_step < 90',
            [True, False, False, False],
        ),
        ("peak_council_power>=5e-1", [True, False, True, True]),
    ],
)
def test_conditions_select_the_runs_they_say(text, expected):
    assert parse_condition(text).mask(RUNS).tolist() == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("resolved_step <", "expected a value"),
        ("resolved_step 90", "expected a comparison"),
        ("(resolved_step < 90", "closing parenthesis"),
        ("resolved_step < 90 resolved_step", "expected and, or or the end"),
        ("__import__('os').system('true')", "cannot read"),
        ("resolved_step < 90; import os", "cannot read"),
        ("outcome == council_power", "expected a value"),
    ],
)
def test_a_condition_off_the_grammar_is_refused(text, message):
    with pytest.raises(DiscoveryError, match=message):
        parse_condition(text)


@pytest.mark.parametrize(
    "text, message",
    [
        ("nosuch < 3", "no column 'nosuch'"),
        ('resolved_step < "a"', "holds numbers"),
        ("outcome < 3", "holds text"),
        ('outcome < "b"', "only be compared with == or !="),
    ],
)
def test_a_condition_on_the_wrong_column_is_refused(text, message):
    with pytest.raises(DiscoveryError, match=message):
        parse_condition(text).mask(RUNS)


def test_conditions_are_parsed_never_evaluated_as_python():
    package = Path(__file__).parents[1] / "src" / "dualpower_sim"
    for name in ("discovery.py", "discovery_conditions.py"):  # the grammar, and its user
        calls = {
            node.func.id
            for node in ast.walk(ast.parse((package / name).read_text()))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        }
        assert not calls & {"eval", "exec", "compile", "__import__"}, name
        text = (package / name).read_text()
        assert "query(" not in text and ".eval(" not in text, name


def test_a_condition_met_by_no_run_or_every_run_is_refused():
    runs = box_table(0)
    with pytest.raises(DiscoveryError, match="met by none of the 300 finished runs"):
        discover(runs, where="a > 2", inputs=INPUTS)
    with pytest.raises(DiscoveryError, match="met by every one of the 300"):
        discover(runs, where="a >= 0", inputs=INPUTS)
    with pytest.raises(DiscoveryError, match="not both or neither"):
        discover(runs, inputs=INPUTS)


def test_frequent_outcomes_skip_rare_and_universal_ones():
    runs = pd.DataFrame({"outcome": ["a"] * 60 + ["b"] * 36 + ["c"] * 4, "status": "done"})
    assert frequent_outcomes(runs) == ["a", "b"]  # c is 4% of the runs
    assert frequent_outcomes(runs[runs["outcome"] == "a"]) == []  # every run: nothing to split


def test_without_the_extra_discovery_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ema_workbench.analysis", None)
    with pytest.raises(MissingExtraError, match=r"dualpower_sim\[discover\]"):
        discover(box_table(0), "council_power", inputs=INPUTS)


# --------------------------------------------------------------------------------------------
# The commands, on a sweep folder of stand-in runs
# --------------------------------------------------------------------------------------------

HYPERCUBE = """
description = "a stand-in hypercube"
config = "us_2003"
replicates = 1
seed = 16
n_workers = 9000
horizon = 12

[design]
kind = "lhs"
samples = 160

[parameters]
legitimacy = { low = 0.1, high = 0.7 }
"state.concession_weight" = { low = 0.0, high = 1.5 }
"debate.cadre_share" = { low = 0.0, high = 0.03 }
"""


def stand_in_run(task):
    """A run whose outcome is known: council power inside a box of two of the three parameters.

    Council power when legitimacy <= 0.4 and concessions <= 0.75 (a box of half of each
    range); co-opted in a fifth of the other runs, else restored. The day it resolved grows
    with the cadres' share.
    """
    o = task["overrides"]
    rng = np.random.default_rng(task["seed"])
    if o["legitimacy"] <= 0.4 and o["state.concession_weight"] <= 0.75:
        outcome = "council_power"
    else:
        outcome = "co_opted" if rng.random() < 0.2 else "state_restored"
    return {
        **{k: task[k] for k in ("run", "point", "replicate", "seed")},
        "status": "done",
        "outcome": outcome,
        "steps": 200,
        "resolved_step": int(30 + 5000 * o["debate.cadre_share"]),
        "peak_council_power": 0.8 if outcome == "council_power" else 0.3,
        "seconds": 0.0,
        "error": "",
    }


@pytest.fixture(scope="module")
def hypercube(tmp_path_factory) -> Path:
    from dualpower_sim.sweeps import load_sweep, run_sweep, running

    tmp = tmp_path_factory.mktemp("hypercube")
    (tmp / "cube.toml").write_text(HYPERCUBE)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(running, "execute_run", stand_in_run)
        sweep = load_sweep(tmp / "cube.toml")
        run_sweep(sweep, tmp / "out")
    return tmp / "out"


def linked_and_written(report: Path, markdown: str) -> None:
    text = (report / markdown).read_text()
    figures = sorted(p.name for p in report.glob("*.png"))
    assert figures
    for name in figures:
        assert f"]({name})" in text, f"{name} is written but not linked"
    for name in __import__("re").findall(r"\]\(([^)]+\.png)\)", text):
        assert (report / name).stat().st_size > 10_000, name


@pytest.mark.slow
def test_report_discover_writes_its_section(hypercube, tmp_path, capsys):
    out = tmp_path / "report"
    (tmp_path / "report").mkdir()
    (out / "curves_gone.png").write_bytes(b"left by an earlier report")
    assert main(["report", str(hypercube), "--out", str(out), "--discover", "council_power"]) == 0
    text = (out / "report.md").read_text()
    assert "## Scenario discovery" in text and '### `outcome == "council_power"`' in text
    section = text.split('### `outcome == "council_power"`')[1]
    box_rows = [r for r in section.splitlines() if r.startswith("| `")]
    # The box restricts legitimacy and concessions from above, and not the cadres.
    assert {r.split("`")[1] for r in box_rows[:2]} == {
        "legitimacy",
        "state.concession_weight",
    }
    assert "debate.cadre_share` | x <=" not in section
    assert (out / "discover_council_power_pairs.png").is_file()
    boxes = pd.read_csv(out / "boxes.csv")
    limits = boxes.set_index("parameter")["high"]
    assert (
        abs(limits["legitimacy"] - 0.4) < 0.06
        and abs(limits["state.concession_weight"] - 0.75) < 0.15
    )
    assert not (out / "curves_gone.png").exists()  # an earlier report's figure is not left
    linked_and_written(out, "report.md")
    # The hypercube's curves are binned, and the tipping-point rule is stated.
    assert "quantile bins" in text and "at least 5 runs end in the outcome" in text


def test_report_discover_alone_takes_the_outcomes_of_at_least_5_percent(hypercube):
    from dualpower_sim import load_results
    from dualpower_sim.report import _discovery_plan

    results = load_results(hypercube)
    shares = results.runs["outcome"].value_counts(normalize=True)
    assert set(shares.index) == {"council_power", "state_restored", "co_opted"}
    assert _discovery_plan(results, True) == list(shares.index)  # most frequent first
    assert _discovery_plan(results, ["co_opted", None]) == [
        "co_opted",
        *shares.index.drop("co_opted"),
    ]
    assert _discovery_plan(results, False) == []


def test_discover_with_a_condition(hypercube, tmp_path, capsys):
    out = tmp_path / "found"
    code = main(["discover", str(hypercube), "--where", "resolved_step < 90", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert printed.startswith("resolved_step < 90: ") and "debate.cadre_share <=" in printed
    text = (out / "discovery.md").read_text()
    assert text.startswith("# Scenario discovery: sweep `cube`")
    box = pd.read_csv(out / "boxes.csv")
    assert list(box["parameter"]) == ["debate.cadre_share"]
    assert abs(box["high"].iloc[0] - 0.012) < 0.002  # resolved_step < 90 iff cadres < 0.012
    linked_and_written(out, "discovery.md")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["discover", "{dir}", "--where", "resolved_step < 10"], "met by none of the 160"),
        (["discover", "{dir}", "--where", "steps > 0"], "met by every one of the 160"),
        (["discover", "{dir}", "--where", "open('x')"], "expected a comparison"),
        (["report", "{dir}", "--discover", "unresolved"], "met by none of the 160"),
        (["report", "{dir}", "--discover", "victory"], "not an outcome"),
    ],
)
def test_a_condition_no_run_or_every_run_meets_is_one_line_and_exit_2(
    hypercube, tmp_path, capsys, argv, message
):
    out = tmp_path / "nothing"
    argv = [a.replace("{dir}", str(hypercube)) for a in argv] + ["--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()  # nothing written


def test_without_the_extra_the_command_names_it(hypercube, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ema_workbench.analysis", None)
    out = tmp_path / "nothing"
    assert (
        main(["discover", str(hypercube), "--where", "resolved_step < 90", "--out", str(out)]) == 2
    )
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "pip install 'dualpower_sim[discover]'" in err
    assert not out.exists()
