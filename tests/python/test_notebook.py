"""Executes examples/notebooks/quickstart.ipynb, monitoring.ipynb and sustainability.ipynb headless, so the notebook can never go stale.

The kernel is the interpreter running pytest: a temporary kernelspec pointing at ``sys.executable``
is put first on ``JUPYTER_PATH``, so a fresh virtual environment works without ``ipykernel install``
and no other Python on the machine is picked up by accident. matplotlib draws headless: with the
inline backend (PNG outputs, no display needed; it ships with ipykernel) or, failing that, Agg —
never a GUI backend inherited from the environment.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat is needed to run the example notebook")
nbclient = pytest.importorskip("nbclient", reason="nbclient is needed to run the example notebook")
pytest.importorskip("ipykernel", reason="ipykernel is needed to run the example notebook")
pytest.importorskip("matplotlib", reason="the notebook draws plots")
pytest.importorskip("impactkit")

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "notebooks" / "quickstart.ipynb"
KERNEL_NAME = "impactkit-test-python"
try:
    import matplotlib_inline  # noqa: F401

    MPL_BACKEND = "module://matplotlib_inline.backend_inline"
except ImportError:  # pragma: no cover
    MPL_BACKEND = "Agg"
TIMEOUT_S = 300


@pytest.fixture()
def kernel_env(tmp_path, monkeypatch):
    spec_dir = tmp_path / "jupyter" / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "impactkit test kernel",
        "language": "python",
        "env": {"MPLBACKEND": MPL_BACKEND},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("MPLBACKEND", MPL_BACKEND)
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    return tmp_path


MONITORING = NOTEBOOK.parent / "monitoring.ipynb"
SUSTAINABILITY = NOTEBOOK.parent / "sustainability.ipynb"


@pytest.mark.parametrize("path", [NOTEBOOK, MONITORING, SUSTAINABILITY], ids=["quickstart", "monitoring", "sustainability"])
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code cells"
    for cell in code:
        assert cell.get("outputs", []) == [], "commit the notebook without outputs (Kernel > Clear outputs)"
        assert cell.get("execution_count") is None


def test_quickstart_notebook_runs(kernel_env):
    outputs = _run(NOTEBOOK, kernel_env)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "\n".join(
        (o.get("text", "") if o.get("output_type") == "stream" else o.get("data", {}).get("text/plain", ""))
        for o in outputs
    )
    html = "\n".join(o.get("data", {}).get("text/html", "") for o in outputs if "data" in o)
    # the summary, the etable and the plots really were produced
    assert "OLS estimates" in text and "treat" in text
    assert "Dependent variable" in html and "With covariates" in html
    if MPL_BACKEND != "Agg":
        assert any("image/png" in o.get("data", {}) for o in outputs), "no figure was displayed"
    assert "\\begin{tabular}" in text


def _run(path, kernel_env):
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name=KERNEL_NAME, timeout=TIMEOUT_S, allow_errors=False,
                                     resources={"metadata": {"path": str(kernel_env)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:  # pragma: no cover - only on failure
        pytest.fail(f"a notebook cell failed:\n{exc}")
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def test_monitoring_notebook_runs(kernel_env):
    outputs = _run(MONITORING, kernel_env)
    text = "\n".join(o.get("text", "") if o.get("output_type") == "stream" else o.get("data", {}).get("text/plain", "")
                     for o in outputs)
    html = "\n".join(o.get("data", {}).get("text/html", "") for o in outputs if "data" in o)
    assert "Relative change in food_insecure" in text and "\\toprule" in text
    assert "Food insecurity" in html and "Results framework" in html
    assert "monitoring.html monitoring.md True" in text


def test_sustainability_notebook_runs(kernel_env):
    outputs = _run(SUSTAINABILITY, kernel_env)
    text = "\n".join(o.get("text", "") if o.get("output_type") == "stream" else o.get("data", {}).get("text/plain", "")
                     for o in outputs)
    # every section produced its result: survival, competing risks, persistence, vulnerability, CEA, replication
    for needle in ("Kaplan", "Log-rank", "Grambsch", "Fine", "half_life", "auc", "ICER", "published figures reproduced"):
        assert needle.lower() in text.lower(), f"{needle!r} missing from the notebook's output"
    if MPL_BACKEND != "Agg":
        assert sum("image/png" in o.get("data", {}) for o in outputs) >= 4, "the notebook's plots were not drawn"
