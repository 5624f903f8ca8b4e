"""The interactive app: its model, its tables, the ``dualpower app`` command, and a real browser."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dualpower_sim import load_experiment, scenario_names
from dualpower_sim.app import (
    DEFAULT_SIZE,
    KNOBS,
    AppModel,
    city_tables,
    federation_ties,
    knob_defaults,
    model_params,
    run_summary,
)
from dualpower_sim.cli import main

CHROMIUM = "/usr/bin/chromium"


@pytest.mark.parametrize("scenario", ["petrograd_1917", "el_alto_2003"])
def test_app_model_at_its_defaults_is_the_preset(scenario):
    app = AppModel(scenario=scenario).run(40)
    ref = load_experiment(scenario, n_workers=DEFAULT_SIZE, seed=1).build_model().run(40)
    pd.testing.assert_frame_equal(app.indicators(), ref.indicators())


def test_slider_values_equal_to_the_scenarios_change_nothing():
    defaults = knob_defaults(load_experiment("paris_1871", n_workers=DEFAULT_SIZE))
    knobs = {k: v for k, v in defaults.items()}
    app = AppModel(scenario="paris_1871", **knobs)
    assert app.experiment.config == load_experiment("paris_1871", n_workers=DEFAULT_SIZE).config


def test_each_slider_sets_its_config_key():
    m = AppModel(
        scenario="el_alto_2003",
        territorial_share=0.2,
        legitimacy=0.8,
        repression=2.5,
        concessions=0.0,
        offensive_readiness=0.9,
        cadre_share=0.02,
        cadre_placement="random",
        soldiers_loyalty=0.4,
        hardship_shock=0.5,
        big_firms=0.6,
    )
    c = m.experiment.config
    assert c["city"]["territorial_share"] == 0.2
    assert c["legitimacy"] == 0.8
    assert (c["state"]["repression_weight"], c["state"]["concession_weight"]) == (2.5, 0.0)
    assert c["state"]["offensive_readiness"] == 0.9
    assert c["debate"]["cadre_share"] == 0.02 and c["debate"]["placement"] == "random"
    loyalty = c["soldiers"]["loyalty"]
    assert loyalty["kind"] == "beta"
    assert loyalty["a"] / (loyalty["a"] + loyalty["b"]) == pytest.approx(0.4)
    # El Alto's own Beta(8, 2) keeps its concentration: only the mean moves.
    assert loyalty["a"] + loyalty["b"] == pytest.approx(10.0)
    assert [s["magnitude"] for s in c["shocks"]] == [0.5]
    assert c["shocks"][0]["start"] == 10  # the scenario's shock, only stronger
    # El Alto has no firm of 1,000+; the slider gives 60% of the workers to such firms.
    big = m.city.firm_size_table().loc["1001+", "worker_share"]
    assert big == pytest.approx(0.6, abs=0.01)
    assert m.world.legitimacy == 0.8


def test_the_big_firm_slider_keeps_the_scenarios_mix_of_smaller_firms():
    base = AppModel(scenario="petrograd_1917").city.firm_size_table()["worker_share"]
    fewer = AppModel(scenario="petrograd_1917", big_firms=0.3).city.firm_size_table()
    share = fewer["worker_share"]
    assert share["1001+"] == pytest.approx(0.3, abs=0.02)
    small = share.drop("1001+") / share.drop("1001+").sum()
    expected = base.drop("1001+") / base.drop("1001+").sum()
    np.testing.assert_allclose(small, expected, atol=0.03)


@pytest.mark.parametrize("scenario", scenario_names())
def test_every_preset_opens_with_its_sliders_inside_their_ranges(scenario):
    defaults = knob_defaults(load_experiment(scenario, n_workers=DEFAULT_SIZE))
    params = model_params(scenario, defaults)
    for knob in KNOBS:
        value = params[knob.name]["value"]
        assert knob.low <= value <= knob.high, (knob.name, value)
    assert params["scenario"] == scenario


def test_city_tables_agree_with_the_world():
    m = AppModel(scenario="paris_1871", n_workers=10_000).run(60)
    t = city_tables(m)
    world, city = m.world, m.city
    assert len(t["neighbourhoods"]) == city.n_neighbourhoods
    assert len(t["firms"]) == city.n_firms
    assert t["firms"]["size"].sum() == city.population.n
    assert len(t["councils"]) == world.councils.count
    mobilized = world.population.mobilized()
    per_nb = np.bincount(
        city.population.neighbourhood, weights=mobilized, minlength=city.n_neighbourhoods
    )
    residents = np.bincount(city.population.neighbourhood, minlength=city.n_neighbourhoods)
    np.testing.assert_allclose(t["neighbourhoods"]["mobilized"], per_nb / np.maximum(residents, 1))
    # A firm is drawn inside its neighbourhood's cell.
    home = city.neighbourhood_xy[city.firm_neighbourhood]
    assert (np.abs(t["firms"][["x", "y"]].to_numpy() - home) < 0.5).all()
    # Drawing leaves the run untouched: the next steps are those of an undrawn twin.
    twin = AppModel(scenario="paris_1871", n_workers=10_000).run(60)
    m.run(10)
    twin.run(10)
    pd.testing.assert_frame_equal(m.indicators(), twin.indicators())


def test_federation_ties_count_the_ties_between_members():
    m = AppModel(scenario="petrograd_1917").run(30)
    ties = federation_ties(m)
    assert len(ties) > 0
    assert (ties["a"] < ties["b"]).all()
    world, table = m.world, m.world.councils
    mobilized = world.population.mobilized()
    adjacency = (world.network.mix != 0).astype(int)

    def members(unit):
        if unit < table.n_firms:
            return np.flatnonzero(mobilized & (world.workplace_unit == unit))
        return np.flatnonzero(mobilized & (world.population.neighbourhood == unit - table.n_firms))

    for _, row in ties.sample(5, random_state=0).iterrows():
        a, b = members(row["a"]), members(row["b"])
        assert adjacency[a][:, b].sum() == row["weight"]


def test_run_summary_explains_the_outcome():
    s = run_summary(AppModel(scenario="petrograd_1917").run(20))
    assert s["resolved"] is False
    assert isinstance(s["explanation"], str) and s["explanation"]
    assert s["thresholds"] == (0.2, 0.1)


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------


def test_app_command_refuses_a_bad_config(capsys, tmp_path):
    assert main(["app", "no_such_scenario"]) == 2
    err = capsys.readouterr().err
    assert "no_such_scenario" in err and "Traceback" not in err
    bad = tmp_path / "bad.toml"
    bad.write_text("legitimacy = 2.0\n")
    assert main(["app", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "legitimacy" in err


def test_app_command_refuses_a_port_in_use_or_out_of_range(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["app", "--port", str(port)]) == 2
        assert f"127.0.0.1:{port}" in capsys.readouterr().err
    assert main(["app", "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err
    assert main(["app", "--port", "-1"]) == 2
    assert main(["app", "--host", "no-such-host.invalid"]) == 2
    err = capsys.readouterr().err
    assert "cannot find host 'no-such-host.invalid'" in err and "--host" in err


# --------------------------------------------------------------------------------------------
# In a real browser
# --------------------------------------------------------------------------------------------


@pytest.fixture
def served_app(tmp_path):
    """``dualpower app`` on a free port; yields its address and log, and stops it afterwards."""
    log = (tmp_path / "server.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dualpower_sim", "app", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        match = re.search(r"http://[\d.]+:\d+/", line)
        assert match, f"no address printed: {line!r}"
        url = match.group(0)
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    assert response.status == 200
                break
            except OSError:
                assert proc.poll() is None, f"the server stopped: {Path(log.name).read_text()}"
                assert time.monotonic() < deadline, "the server did not answer in 120 s"
                time.sleep(0.5)
        yield url, Path(log.name)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        proc.stdout.close()
        log.close()


def _chromium():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    return CHROMIUM


@pytest.mark.slow
def test_the_app_renders_responds_to_a_slider_and_steps(served_app, tmp_path):
    from playwright.sync_api import sync_playwright

    chromium = _chromium()
    shots = Path(os.environ.get("DUALPOWER_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_page(viewport={"width": 1600, "height": 1200})
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        url, server_log = served_app
        page.goto(url)
        step = page.get_by_role("button", name="Step", exact=True)
        step.wait_for(timeout=120_000)
        banner = page.get_by_text(re.compile(r"Day 0 of 365"))
        banner.wait_for(timeout=60_000)
        assert page.get_by_text("Dual power: petrograd_1917").is_visible()
        images = page.locator("img")
        images.first.wait_for(timeout=60_000)
        assert images.count() >= 4, "the powers, mobilization, map and federation views"
        before = images.first.get_attribute("src")
        page.screenshot(path=str(shots / "app-start.png"), full_page=True)

        # Move the legitimacy slider five notches with the keyboard, as a student could.
        slider = page.get_by_role("slider", name="State legitimacy")
        start = float(slider.get_attribute("aria-valuenow"))
        slider.focus()
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "([el, v]) => parseFloat(el.getAttribute('aria-valuenow')) > v",
            arg=[slider.element_handle(), start],
        )
        assert float(slider.get_attribute("aria-valuenow")) == pytest.approx(start + 0.05)

        page.get_by_role("button", name="Reset", exact=True).click()
        page.get_by_text(re.compile(r"Day 0 of 365")).wait_for(timeout=60_000)
        step.click()
        page.get_by_text(re.compile(r"Day 5 of 365")).wait_for(timeout=60_000)
        page.wait_for_function(
            "([img, src]) => img.getAttribute('src') !== src",
            arg=[images.first.element_handle(), before],
            timeout=60_000,
        )
        page.screenshot(path=str(shots / "app-after-step.png"), full_page=True)

        # Another scenario: the page rebuilds with its name and its own slider values.
        page.get_by_role("button", name="Scenario").click()
        page.get_by_role("option", name="el_alto_2003").click()
        page.get_by_text("Dual power: el_alto_2003").wait_for(timeout=60_000)
        territory = page.get_by_role("slider", name=re.compile("Organised by territory"))
        territory.wait_for(state="attached", timeout=60_000)
        assert float(territory.get_attribute("aria-valuenow")) == pytest.approx(0.9)
        page.screenshot(path=str(shots / "app-el-alto.png"), full_page=True)
        alerts = page.locator(".v-alert.error").all_inner_texts()
        browser.close()
    assert not errors, errors
    assert "Traceback" not in server_log.read_text(), server_log.read_text()
    assert not [a for a in alerts if "error in" in a.lower()], alerts
    assert (shots / "app-after-step.png").stat().st_size > 10_000


def _alerts(view, model) -> list[str]:
    import ipyvuetify as v
    import solara

    @solara.component
    def Show():  # noqa: N802 - a Solara component
        view(model)

    _, rc = solara.render(Show(), handle_error=False)
    return [" ".join(map(str, w.children)) for w in rc.find(v.Alert).widgets]


def test_the_banner_says_the_day_then_the_outcome_and_why():
    from dualpower_sim.app import PowersView

    model = AppModel(scenario="st_petersburg_1905")
    (running,) = _alerts(PowersView, model)
    assert running.startswith("Day 0 of 365: no dual power yet")
    model.run()
    assert model.outcome == "state_restored" and not model.running
    (done,) = _alerts(PowersView, model)
    assert done.startswith(f"Outcome: state restored on day {model.steps}.")
    explanation = run_summary(model)["explanation"]
    assert explanation[:1].upper() + explanation[1:] in done


def test_a_big_city_shows_no_hairball_but_says_why():
    from dualpower_sim import app
    from dualpower_sim.app import FederationView

    model = AppModel(scenario="el_alto_2003").run(30)
    sitting = model.world.councils.count
    assert sitting > 10
    original = app.FEDERATION_MAX
    try:
        app.FEDERATION_MAX = 10
        (note,) = _alerts(FederationView, model)
    finally:
        app.FEDERATION_MAX = original
    assert note.startswith(f"{sitting} councils sit: too many to draw")
    assert _alerts(FederationView, model) == []  # drawn as a network again
