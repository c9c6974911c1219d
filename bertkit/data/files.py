"""Where the data lives and whether a file there is the official one (stdlib only: the shell scripts call it
before anything heavy is imported).

The data folder: DATA_DIR if set, else ../shared/data beside the project if it exists, else data/ inside the
project (git ignores it). Its layout is that of ../shared/data:

    squad_v2/dev-v2.0.json.gz     official SQuAD 2.0 dev, gzipped (byte-identical to the official JSON inside)
    squad_v2/train-v2.0.json.gz   official SQuAD 2.0 train (only runs that train on it fetch it)
    imdb/{train,test}.csv.gz      IMDB (Maas et al. 2011), columns text,label (0 negative, 1 positive)

A file counts as verified when its bytes (or, for a .gz, the bytes inside) have the sha256 and size below;
IMDB CSVs converted here from the verified archive count too (imdb/CONVERSION.json records it). A file
verified once is remembered by (path, size, mtime) in .cache/verified-data.json and not hashed again.
Mirrors and tests: SQUAD_BASE_URL, IMDB_BASE_URL, and BERTKIT_DATA_MANIFEST (a JSON file whose items
replace those below, field by field).
"""
from __future__ import annotations

import copy
import gzip
import hashlib
import json
import os
import zlib
from pathlib import Path

from ..errors import UserError

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data"
PROJECT_DATA = ROOT / "data"
MEMO = ROOT / ".cache" / "verified-data.json"
CONVERSION = "imdb/CONVERSION.json"

SQUAD_BASE_URL = "https://rajpurkar.github.io/SQuAD-explorer/dataset/"
IMDB_BASE_URL = "https://ai.stanford.edu/~amaas/data/sentiment/"

# What each item downloads (name under its base URL, size and sha256 of the download as published) and the files
# it lays out. For a file: sha256 of the stored .gz as this project writes it (gzip level 9, mtime 0: reproducible),
# and content_size/content_sha256 of the bytes inside, the identity that holds whatever gzip wrote it.
ITEMS = {
    "squad-dev": {
        "what": "SQuAD 2.0 dev set (Rajpurkar et al. 2018), CC BY-SA 4.0", "base": "squad",
        "download": "dev-v2.0.json", "size": 4_370_528,
        "sha256": "80a5225e94905956a6446d296ca1093975c4d3b3260f1d6c8f68bc2ab77182d8",
        "files": {"squad_v2/dev-v2.0.json.gz": {
            "sha256": "c64fe26c35acdc15eec216f26c513dd7299a0a443d228be26b11abad943b3a1e",
            "content_size": 4_370_528,
            "content_sha256": "80a5225e94905956a6446d296ca1093975c4d3b3260f1d6c8f68bc2ab77182d8"}},
    },
    "squad-train": {
        "what": "SQuAD 2.0 train set (Rajpurkar et al. 2018), CC BY-SA 4.0", "base": "squad",
        "download": "train-v2.0.json", "size": 42_123_633,
        "sha256": "68dcfbb971bd3e96d5b46c7177b16c1a4e7d4bdef19fb204502738552dede002",
        "files": {"squad_v2/train-v2.0.json.gz": {
            "sha256": None, "content_size": 42_123_633,
            "content_sha256": "68dcfbb971bd3e96d5b46c7177b16c1a4e7d4bdef19fb204502738552dede002"}},
    },
    "imdb": {
        "what": "IMDB Large Movie Review Dataset v1.0 (Maas et al. 2011), cite the ACL 2011 paper", "base": "imdb",
        "download": "aclImdb_v1.tar.gz", "size": None,
        "sha256": "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
        "rows_per_label": 12_500,
        # the reference CSVs (../shared/data/imdb, see its README); a conversion here that differs is still
        # accepted, because its archive verified, and CONVERSION.json says so
        "files": {"imdb/train.csv.gz": {
                      "sha256": "2c56858c642adcef86f0b2c08942d2a0ed0b2f80b5b7769ae907a5e54c9f1c43",
                      "content_size": 33_322_167,
                      "content_sha256": "c324c54e17ffceb54230d53ed26c7c43530fc5fe7374990773ce9871c2bf27ed"},
                  "imdb/test.csv.gz": {
                      "sha256": "2109445e4bdadb97c93dd9483d489288c1001145de3ca7edba25e0111b789a30",
                      "content_size": 32_540_147,
                      "content_sha256": "9c724df13b97942ce5d40e5df5d6832a522312f601e26de41cd1e7906744cf16"}},
    },
}


def items() -> dict:
    """ITEMS, with BERTKIT_DATA_MANIFEST's replacements (tests, private mirrors of other snapshots)."""
    out = copy.deepcopy(ITEMS)
    override = os.environ.get("BERTKIT_DATA_MANIFEST")
    if override:
        try:
            extra = json.loads(Path(override).read_text())
        except (OSError, ValueError) as e:
            raise UserError(f"BERTKIT_DATA_MANIFEST={override}: cannot read it as JSON ({e}); fix or unset it") from None
        for name, fields in extra.items():
            out.setdefault(name, {}).update(fields)
    return out


def url(item: dict) -> str:
    base = {"squad": os.environ.get("SQUAD_BASE_URL") or SQUAD_BASE_URL,
            "imdb": os.environ.get("IMDB_BASE_URL") or IMDB_BASE_URL}[item["base"]]
    return base.rstrip("/") + "/" + item["download"]


def data_dir() -> Path:
    """DATA_DIR wins; else ../shared/data if it exists; else the project's own (git-ignored) data/."""
    if os.environ.get("DATA_DIR"):
        return Path(os.environ["DATA_DIR"])
    return SHARED_DATA if SHARED_DATA.is_dir() else PROJECT_DATA


def sha256_of(path: Path, inner: bool = False) -> tuple[int, str]:
    """(size, sha256) of the file, or of the bytes inside it when inner (a .gz)."""
    h, n = hashlib.sha256(), 0
    with (gzip.open(path, "rb") if inner else open(path, "rb")) as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
            n += len(block)
    return n, h.hexdigest()


def _memo() -> dict:
    try:
        return json.loads(MEMO.read_text())
    except (OSError, ValueError):
        return {}


def _stamp(path: Path) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _identity(expect: dict) -> str:
    return expect.get("content_sha256") or expect.get("sha256") or ""


def remember(path: Path, how: str, expect: dict) -> None:
    """Record a verified file; the memo only saves hashing, so failing to write it is harmless."""
    memo = {k: v for k, v in _memo().items() if Path(k).exists()}  # forget files gone (test folders)
    memo[str(path.resolve())] = {**_stamp(path), "expected": _identity(expect), "verified": how}
    try:
        MEMO.parent.mkdir(parents=True, exist_ok=True)
        tmp = MEMO.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(memo, indent=1, sort_keys=True))
        os.replace(tmp, MEMO)
    except OSError:
        pass


def verify(path: Path, expect: dict, conversion: dict | None = None) -> str | None:
    """How `path` verified ('sha256', 'content sha256', 'converted from the verified archive', 'remembered'),
    or None when it is not the expected file."""
    seen = _memo().get(str(path.resolve()))
    if seen and {k: seen.get(k) for k in ("size", "mtime_ns")} == _stamp(path) \
            and seen.get("expected") == _identity(expect):
        return "remembered"
    how = None
    size, sha = sha256_of(path)
    if expect.get("sha256") and sha == expect["sha256"]:
        how = "sha256"
    elif conversion and conversion.get("files", {}).get(path.name, {}).get("sha256") == sha:
        how = "converted from the verified archive"
    elif expect.get("content_sha256") and path.suffix == ".gz":
        try:
            if sha256_of(path, inner=True) == (expect["content_size"], expect["content_sha256"]):
                how = "content sha256"
        except (OSError, EOFError, gzip.BadGzipFile):
            how = None
    elif expect.get("content_sha256") and (size, sha) == (expect["content_size"], expect["content_sha256"]):
        how = "content sha256"
    if how:
        remember(path, how, expect)
    return how


def read_conversion(root: Path, item: dict) -> dict | None:
    """The IMDB conversion record, trusted only when the archive it names is the one we expect."""
    try:
        rec = json.loads((root / CONVERSION).read_text())
    except (OSError, ValueError):
        return None
    return rec if rec.get("archive", {}).get("sha256") == item["sha256"] else None


def describe_missing(path: Path, name: str, item: dict) -> str:
    """The one line for a missing file: what it is, where it comes from, its checksum, how to get it."""
    size = f"{item['size']:,} bytes, " if item.get("size") else ""
    return (f"{path} is missing ({item['what']}); it comes from {url(item)} ({size}sha256 {item['sha256']}); "
            f"fetch it with network: bash scripts/get_data.sh {name}, or set DATA_DIR to a folder that holds "
            f"{'/'.join(path.parts[-2:])}")


def hint_for(path: str | os.PathLike) -> str:
    """For a data file not found: where the official file of that name comes from ('' if not ours)."""
    p = Path(path)
    for name, item in items().items():
        for rel in item["files"]:
            if p.name == Path(rel).name:
                return (f"; it is {item['what']}: bash scripts/get_data.sh {name} fetches it into DATA_DIR "
                        f"(from {url(item)}, sha256 {item['sha256']})")
    return ""


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sha256_path(path: str | os.PathLike) -> str:
    """sha256_file of a file; of a folder (a save_to_disk folder, Parquet parts), a sha256 over each file's
    relative name and sha256 in sorted order: the same content gives the same digest wherever the folder lies,
    and a renamed, added or changed file changes it."""
    p = Path(path)
    if not p.is_dir():
        return sha256_file(p)
    h = hashlib.sha256()
    for name in sorted(x.relative_to(p).as_posix() for x in p.rglob("*") if x.is_file()):
        h.update(f"{name}\0{sha256_file(p / name)}\n".encode())
    return h.hexdigest()


def read_text(path: str, flag: str = "") -> str:
    """A data file's text (UTF-8, .gz unpacked); one clear error for what users actually pass by mistake."""
    p, where = Path(path), f" ({flag})" if flag else ""
    if p.is_dir():
        raise UserError(f"{path}{where} is a folder, not a file; pass the data file inside it")
    if not p.is_file():
        raise UserError(f"data file not found: {path}{where}; pass the right path{hint_for(path)}")
    if p.stat().st_size == 0:
        raise UserError(f"{path}{where} is empty (0 bytes); pass the data file, or fetch it again")
    try:
        raw = gzip.open(p, "rb").read() if str(path).endswith(".gz") else p.read_bytes()
    except (EOFError, OSError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        raise UserError(f"{path}{where} is not a complete .gz file ({e}); download or compress it again") from None
    try:
        return raw.decode("utf-8-sig")  # a byte-order mark is allowed and dropped
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise UserError(f"{path}{where}: line {line} is not UTF-8 (byte 0x{raw[e.start]:02x}); data files are "
                        "read as UTF-8 only: re-save it as UTF-8 (e.g. iconv -f latin1 -t utf-8 in > out)") from None
