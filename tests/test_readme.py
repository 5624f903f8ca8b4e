"""The README's Python examples run as written and say what they claim."""

import re
from pathlib import Path

import pytest

from dualpower_sim import OUTCOMES

README = Path(__file__).resolve().parents[1] / "README.md"


def run_blocks():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    spaces = []
    for block in blocks:
        namespace: dict = {}
        exec(compile(block, str(README), "exec"), namespace)
        spaces.append(namespace)
    return spaces


def test_readme_python_examples_run():
    first, petrograd = run_blocks()
    model = first["model"]
    assert model.steps > 0 and not model.running and model.outcome in OUTCOMES
    assert len(model.councils) == model.world.councils.count
    share = petrograd["petrograd"]
    assert share.territorial_share == 0.0
    built = petrograd["DualPowerModel"](n_workers=50_000, city=share, seed=1)
    assert built.network_stats()["share_in_1000_plus"] == pytest.approx(0.679, abs=0.001)
    riot = petrograd["riot"]  # Granovetter's riot, with no flag turning arrests off
    assert riot.stable_since == 100 and riot.city.population.counts()["mobilized"] == 100


@pytest.mark.slow
def test_readme_quickstart_command_runs_the_main_job(tmp_path):
    import os
    import subprocess
    import sys

    text = README.read_text()
    first = re.search(r"```bash\n(.*?)```", text, re.S).group(1).strip()
    install, run = (part.strip() for part in first.split("&&"))
    assert install == "python -m pip install -e ."
    command = run.split()
    assert command[0] == "dualpower"
    script = Path(sys.executable).with_name("dualpower")
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    proc = subprocess.run(
        [str(script), *command[1:], "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out" / command[2]
    assert (out / "summary.json").is_file() and (out / "powers.png").is_file()


def test_readme_config_example_and_its_error_messages_are_real(tmp_path):
    from dualpower_sim.config import ConfigError, load_experiment

    text = README.read_text()
    example = re.search(r"```toml\n(.*?)```", text, re.S).group(1)
    path = tmp_path / "my_experiment.toml"
    path.write_text(example)
    exp = load_experiment(path)
    assert exp.kwargs["mobilization"].name == "threshold" and exp.seed == 3
    errors = re.search(r"```\n(error: .*?)```", text, re.S).group(1).strip().splitlines()
    for line, bad in zip(
        errors,
        ("[councils]\nformaton_share = 0.4\n", "[councils]\nformation_share = 1.5\n"),
        strict=True,
    ):
        path.write_text(example + bad.replace("[councils]\n", "[councils]\n", 1))
        try:
            load_experiment(path)
        except ConfigError as exc:
            shown = line.removeprefix("error: ").removesuffix(" ...")
            message = str(exc).replace(str(path), "my_experiment.toml")
            assert message.startswith(shown), (message, shown)
        else:
            raise AssertionError(f"{bad!r} was accepted")
