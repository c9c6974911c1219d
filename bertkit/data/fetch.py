"""Fetch what a run needs into the data folder: download the official file, verify it, lay it out.

    python3 -m bertkit.data.fetch squad-dev                # what the laptop SQuAD job needs (4.4 MB)
    python3 -m bertkit.data.fetch squad-dev squad-train    # + the official train set (42 MB), for DATASET=official
    python3 -m bertkit.data.fetch imdb                     # the IMDB archive (84 MB) -> imdb/{train,test}.csv.gz
    python3 -m bertkit.data.fetch --offline squad-dev      # verify only; a missing file is an error (DATA_OFFLINE=1 too)
    python3 -m bertkit.data.fetch --where                  # print the data folder (bertkit.data.files.data_dir)

Files already there are verified (once; remembered) and never fetched again. A download goes to a hidden
.part file beside its destination, is checked (size, sha256) and only then laid out; a wrong checksum or a cut
download deletes it and says so in one line. Ctrl-C keeps the .part file: the same command resumes it (HTTP
Range) or, if the server cannot resume, starts again. Standard library only (urllib, tarfile, gzip).
"""
from __future__ import annotations

import argparse
import csv
import datetime
import gzip
import http.client
import io
import json
import os
import socket
import sys
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from . import files
from ..errors import UserError

TIMEOUT_S = float(os.environ.get("FETCH_TIMEOUT", "30"))  # per connect / read: no hang on a dead network
CHUNK = 1 << 20


class Progress:
    """Bytes so far on stderr: one updating line on a terminal, a line per 10 % in a log."""

    def __init__(self, label: str, total: int | None, start: int):
        self.label, self.total, self.start, self.t0 = label, total, start, time.time()
        self.tty, self.next_pct = sys.stderr.isatty(), 10

    def update(self, done: int, final: bool = False):
        mb, rate = done / 1e6, (done - self.start) / 1e6 / max(time.time() - self.t0, 1e-6)
        pct = 100 * done // self.total if self.total else None
        text = (f"  {self.label}: {pct:3d}% {mb:.1f}/{self.total / 1e6:.1f} MB {rate:.1f} MB/s" if pct is not None
                else f"  {self.label}: {mb:.1f} MB {rate:.1f} MB/s")
        if self.tty:
            print("\r" + text, end="\n" if final else "", file=sys.stderr, flush=True)
        elif final or (pct is not None and pct >= self.next_pct):
            print(text, file=sys.stderr, flush=True)
            self.next_pct = (pct // 10 + 1) * 10 if pct is not None else self.next_pct


def _unreachable(url: str, reason, missing: str) -> UserError:
    return UserError(f"cannot reach {url} ({reason}): {missing} (offline? set DATA_OFFLINE=1 to skip trying)")


def download(url: str, part: Path, item: dict, missing: str) -> None:
    """Fetch url into part (resuming what is there), then check size and sha256; on failure delete part."""
    have = part.stat().st_size if part.exists() else 0
    size = item.get("size")
    if not (have and size and have == size):  # a complete part from an interrupted run needs only checking
        headers = {"User-Agent": "bertkit-fetch/1"}
        if have:
            headers["Range"] = f"bytes={have}-"
        try:
            resp = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=TIMEOUT_S)
        except urllib.error.HTTPError as e:
            if not (e.code == 416 and have):  # 416 on a resume: nothing left to send, the part is whole
                raise UserError(f"cannot fetch {url}: HTTP {e.code} {e.reason}; {missing}") from None
            resp = None
        except (urllib.error.URLError, OSError) as e:
            raise _unreachable(url, getattr(e, "reason", e), missing) from None
        if resp is not None:
            with resp:
                resumed = resp.status == 206
                start = have if resumed else 0  # 200: the server ignored the range; start again
                length = resp.headers.get("Content-Length")
                total = start + int(length) if length else size
                got = start
                progress = Progress(f"{item['download']}{' (resumed)' if resumed else ''}", total, start)
                try:
                    with open(part, "ab" if resumed else "wb") as f:
                        while block := resp.read(CHUNK):
                            f.write(block)
                            got += len(block)
                            progress.update(got)
                except (http.client.IncompleteRead, ConnectionError, socket.timeout, OSError) as e:
                    part.unlink(missing_ok=True)
                    raise UserError(f"download of {url} was cut at {got:,} of {total or '?'} bytes "
                                    f"({type(e).__name__}); nothing kept; run the same command again") from None
                if total and got < total:
                    part.unlink(missing_ok=True)
                    raise UserError(f"download of {url} was cut at {got:,} of {total:,} bytes; nothing kept; "
                                    "run the same command again")
                progress.update(got, final=True)
    got_size, got_sha = files.sha256_of(part)
    if got_sha != item["sha256"] or (size and got_size != size):
        part.unlink()
        raise UserError(f"{url} is not the expected file: {got_size:,} bytes, sha256 {got_sha}; expected "
                        f"{f'{size:,} bytes, ' if size else ''}sha256 {item['sha256']}; nothing kept (a mirror "
                        "serving another file? check SQUAD_BASE_URL / IMDB_BASE_URL, or run again)")


def _write_gz(dest: Path, data: bytes, inner_name: str) -> None:
    """gzip level 9 with mtime 0: the same bytes every time (the sha256 in files.ITEMS), written atomically."""
    tmp = dest.with_name(f".{dest.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as raw, gzip.GzipFile(inner_name, "wb", 9, raw, mtime=0) as g:
            g.write(data)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def install_squad(part: Path, root: Path, item: dict) -> list[Path]:
    (rel,) = item["files"]
    dest = root / rel
    _write_gz(dest, part.read_bytes(), item["download"])
    return [dest]


IMDB_RULES = ("aclImdb/{train,test}/{neg,pos}/<id>_<rating>.txt -> imdb/{train,test}.csv.gz: negative (label 0) "
              "then positive (label 1), each in ascending <id>; text = the file's UTF-8 text unchanged (<br /> "
              "kept); header text,label; csv module quoting (minimal), \\n line ends; gzip level 9, mtime 0, "
              "inner name imdb_<split>.csv; train/unsup is not used")


def install_imdb(part: Path, root: Path, item: dict, wanted: list[str]) -> list[Path]:
    """Convert the verified archive to the two CSVs (only those wanted: existing files are never replaced)."""
    splits = {Path(rel).name.split(".")[0]: rel for rel in wanted}
    reviews = {(s, lab): [] for s in splits for lab in (0, 1)}
    with tarfile.open(part, "r:gz") as tar:
        for m in tar:
            p = m.name.split("/")
            if len(p) == 4 and p[0] == "aclImdb" and p[1] in splits and p[2] in ("neg", "pos") \
                    and m.isfile() and p[3].endswith(".txt"):
                try:
                    rid = int(p[3].split("_")[0])
                    text = tar.extractfile(m).read().decode("utf-8")
                except (ValueError, UnicodeDecodeError) as e:
                    raise UserError(f"{item['download']}: member {m.name} is not <id>_<rating>.txt in UTF-8 "
                                    f"({e}); the archive verified, so report this") from None
                reviews[(p[1], int(p[2] == "pos"))].append((rid, text))
    want_n = item["rows_per_label"]
    for (s, lab), rows in reviews.items():
        if len(rows) != want_n:
            raise UserError(f"{item['download']}: aclImdb/{s}/{('neg', 'pos')[lab]} holds {len(rows):,} reviews, "
                            f"expected {want_n:,}; nothing written")
    written, record = [], {}
    for s, rel in splits.items():
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["text", "label"])
        for lab in (0, 1):
            w.writerows((text, lab) for _, text in sorted(reviews[(s, lab)]))
        data = buf.getvalue().encode("utf-8")
        dest = root / rel
        _write_gz(dest, data, f"imdb_{s}.csv")
        written.append(dest)
        size, sha = files.sha256_of(dest)
        ref = item["files"][rel]
        content_size, content_sha = files.sha256_of(dest, inner=True)
        record[dest.name] = {"sha256": sha, "size": size, "content_sha256": content_sha, "content_size": content_size,
                             "rows": 2 * want_n, "rows_per_label": want_n,
                             "matches_reference": content_sha == ref.get("content_sha256")}
        if ref.get("content_sha256") and content_sha != ref["content_sha256"]:
            print(f"note: {dest} differs from the reference CSV (content sha256 {content_sha}, reference "
                  f"{ref['content_sha256']}); its archive verified, so it is kept and recorded in {files.CONVERSION}",
                  file=sys.stderr)
    conv_path = root / files.CONVERSION
    old = files.read_conversion(root, item) or {}
    conv = {"archive": {"url": files.url(item), "sha256": item["sha256"], "size": part.stat().st_size},
            "rules": IMDB_RULES, "converted_by": "bertkit/data/fetch.py",
            "converted_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "files": {**old.get("files", {}), **record}}
    tmp = conv_path.with_name(f".{conv_path.name}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(conv, indent=2) + "\n")
    os.replace(tmp, conv_path)
    return written


def ensure(names: list[str], root: Path, offline: bool = False) -> dict[str, list[Path]]:
    """Make every file of the named items present and verified under root; fetch what is missing unless offline."""
    catalogue = files.items()
    unknown = [n for n in names if n not in catalogue]
    if unknown:
        raise UserError(f"unknown data item(s) {unknown}; choose from {sorted(catalogue)}")
    out = {}
    for name in names:
        item = catalogue[name]
        conv = files.read_conversion(root, item) if name == "imdb" else None
        missing = []
        for rel, expect in item["files"].items():
            path = root / rel
            if not path.exists():
                missing.append(rel)
                continue
            if not path.is_file():
                raise UserError(f"{path} is not a file; move it away, or set DATA_DIR to another data folder")
            how = files.verify(path, expect, conv)
            if how is None:
                raise UserError(f"{path} is not the official file ({item['what']}: expected sha256 "
                                f"{expect.get('content_sha256') or expect.get('sha256')} of its contents); move it "
                                f"away and run again to fetch the official one, or pass your own file with the "
                                "script's file knobs (DATASET=files, IMDB_DIR)")
            print(f"data: {path} verified ({how})", file=sys.stderr)
        if missing:
            line = files.describe_missing(root / missing[0], name, item)
            if offline:
                raise UserError(f"{line} (offline: DATA_OFFLINE=1 or --offline, so nothing is fetched)")
            folder = (root / missing[0]).parent
            made = [d for d in (root, folder) if not d.exists()]  # removed again if the fetch fails
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise UserError(f"cannot write to the data folder {root} ({e.strerror}); set DATA_DIR to a "
                                "writable folder") from None
            source = files.url(item)
            part = folder / f".{item['download']}.part"
            print(f"fetch: {source} -> {root / missing[0]} ({item['what']})", file=sys.stderr)
            try:
                download(source, part, item, line)
                try:
                    written = (install_imdb(part, root, item, missing) if name == "imdb"
                               else install_squad(part, root, item))
                except (tarfile.TarError, EOFError, gzip.BadGzipFile) as e:
                    raise UserError(f"{source} verified but cannot be unpacked ({e}); report this") from None
                finally:
                    part.unlink(missing_ok=True)
            except UserError:
                for d in reversed(made):
                    if d.is_dir() and not any(d.iterdir()):
                        d.rmdir()
                raise
            conv = files.read_conversion(root, item) if name == "imdb" else None
            for path in written:
                how = files.verify(path, item["files"][f"{path.parent.name}/{path.name}"], conv)
                print(f"data: {path} fetched and verified ({how})", file=sys.stderr)
        out[name] = [root / rel for rel in item["files"]]
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("items", nargs="*", help=f"data items: {', '.join(files.ITEMS)}")
    p.add_argument("--data_dir", default=None, help="default: DATA_DIR, else ../shared/data, else data/")
    p.add_argument("--offline", action="store_true", help="never download (also DATA_OFFLINE=1)")
    p.add_argument("--where", action="store_true", help="print the data folder and exit")
    a = p.parse_args(argv)
    root = Path(a.data_dir) if a.data_dir else files.data_dir()
    if a.where:
        print(root)
        return 0
    offline = a.offline or os.environ.get("DATA_OFFLINE", "0") not in ("", "0", "false")
    try:
        ensure(a.items or ["squad-dev"], root, offline)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: a partial download stays as a hidden .part file; the same command resumes it",
              file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
