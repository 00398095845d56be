"""Scale benchmark: an archive of 10k, 100k or 1M chunks made from real documents, ingested and asked.

Run from the repository root:

    python evals/bench_scale.py --chunks 10000 --chunks 100000 --work /tmp/scale [--json OUT]

The archive is made from the seed documents (``corpus/``) and the devset's plain texts
(``../shared/devset/text``): each copy has its numbers, dates and province names changed, so
documents are distinct (their own numbers, deadlines and places) while their layout stays real.
Every change keeps the text's length (a date becomes another valid date of the same width, a
province another province of the same length), so a copy is chunked exactly like its original.

Dense vectors are reused, and the report says so: a copy's passage gets the vector computed
for the first passage with the same text once digits and province names are masked (computed
with the configured embedder and cached in ``--work``). Embedding a million passages on two
cores would take days (see ``bench_embed.py`` for the embedder's own rate); everything else -
parsing, sparse vectors, register, writes, search and answers - runs for real.

Each phase is its own process, as a user meets it: ``ingest`` (peak RSS, chunks/s), ``serve``
(cold start to first answer, warm retrieval and answer p50/p95 over the gold and devset
questions, a new file answerable through sparse search, peak RSS), then ``congvan ingest`` of
the unchanged archive. Disk is the data folder's size.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEVSET = ROOT.parent / "shared" / "devset"

# Province names (Nghị định 30's issuers name them): a copy swaps each for one of equal length.
PROVINCES = """An Giang, Bà Rịa - Vũng Tàu, Bắc Giang, Bắc Kạn, Bạc Liêu, Bắc Ninh, Bến Tre, Bình Định, Bình Dương,
Bình Phước, Bình Thuận, Cà Mau, Cần Thơ, Cao Bằng, Đà Nẵng, Đắk Lắk, Đắk Nông, Điện Biên, Đồng Nai, Đồng Tháp,
Gia Lai, Hà Giang, Hà Nam, Hà Nội, Hà Tĩnh, Hải Dương, Hải Phòng, Hậu Giang, Hòa Bình, Hưng Yên, Khánh Hòa,
Kiên Giang, Kon Tum, Lai Châu, Lâm Đồng, Lạng Sơn, Lào Cai, Long An, Nam Định, Nghệ An, Ninh Bình, Ninh Thuận,
Phú Thọ, Phú Yên, Quảng Bình, Quảng Nam, Quảng Ngãi, Quảng Ninh, Quảng Trị, Sóc Trăng, Sơn La, Tây Ninh,
Thái Bình, Thái Nguyên, Thanh Hóa, Thừa Thiên Huế, Tiền Giang, Trà Vinh, Tuyên Quang, Vĩnh Long, Vĩnh Phúc,
Yên Bái""".replace("\n", " ").split(", ")
_PLACE = re.compile("|".join(sorted((re.escape(p) for p in PROVINCES), key=len, reverse=True)))
_DATE = re.compile(r"\b(\d{1,2})([/.-])(\d{1,2})\2(\d{4})\b")
_DIGITS = re.compile(r"\d+")


# --------------------------------------------------------------------------- the archive


def vary(text: str, rng: random.Random) -> str:
    """A copy of ``text`` with other dates, numbers and provinces, every change length-preserving."""
    same_length: dict[int, list[str]] = {}
    for p in PROVINCES:
        same_length.setdefault(len(p), []).append(p)
    places = {p: rng.choice(same_length[len(p)]) for p in PROVINCES}

    shift = rng.randint(-3, 3)  # one shift of every year, so a copy stays consistent with itself

    def year(y: str) -> str:
        return str(int(y) + shift) if 1990 <= int(y) <= 2090 else y

    def date(m: re.Match) -> str:
        day, sep, month, y = m.groups()
        d = rng.randint(1, 9) if len(day) == 1 else rng.randint(10, 28)
        mo = rng.randint(1, 9) if len(month) == 1 else rng.randint(10, 12)
        return f"{d}{sep}{mo}{sep}{year(y)}"

    def digits(m: re.Match) -> str:
        s = m.group()
        if len(s) == 4 and 1990 <= int(s) <= 2090:
            return year(s)
        line_start = m.start() == 0 or m.string[m.start() - 1] == "\n"
        if len(s) == 1 or (line_start and m.string[m.end():m.end() + 1] in ".)"):
            return s  # list and heading numbers keep the document's structure
        first = str(rng.randint(1, 9)) if s[0] != "0" else "0"
        return first + "".join(str(rng.randint(0, 9)) for _ in s[1:])

    pieces, last = [], 0
    for m in _DATE.finditer(text):  # dates first, so their digits are not varied one by one
        pieces += [_DIGITS.sub(digits, text[last:m.start()]), date(m)]
        last = m.end()
    text = "".join(pieces) + _DIGITS.sub(digits, text[last:])
    return _PLACE.sub(lambda m: places[m.group()], text)


def skeleton(text: str) -> str:
    """``text`` with what ``vary`` changes masked: copies of one passage share a skeleton."""
    return _PLACE.sub(lambda m: "#" * len(m.group()), _DIGITS.sub(lambda m: "0" * len(m.group()), text))


def sources() -> list[tuple[str, str]]:
    """(name, text) of the real documents the archive is made from."""
    files = sorted((ROOT / "corpus").glob("*.txt")) + sorted((DEVSET / "text").glob("*.txt"))
    return [(f.stem, f.read_text(encoding="utf-8")) for f in files]


def build_archive(folder: Path, chunks: int) -> dict:
    """Write copies of the sources under ``folder`` until they make about ``chunks`` chunks."""
    from ingest.loaders import load_file
    from ingest.pipeline import parse_file
    from ingest.settings import Settings

    marker = folder / ".bench-scale.json"
    if marker.exists() and json.loads(marker.read_text())["target"] == chunks:
        return json.loads(marker.read_text())
    settings = Settings()
    base = sources()
    sizes = []
    for name, _text in base:
        loaded = load_file(_source_path(name), key=name, max_bytes=1 << 30)
        sizes.append(len(parse_file(loaded, max_chars=settings.chunk_max_chars,
                                    min_chars=settings.chunk_min_chars)[1]))
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    made = files = 0
    copy = 0
    while made < chunks:
        for (name, text), size in zip(base, sizes):
            if made >= chunks:
                break
            rng = random.Random(f"{name}:{copy}")
            sub = folder / f"{files // 1000:04d}"
            sub.mkdir(exist_ok=True)
            (sub / f"{copy:05d}_{name}.txt").write_text(vary(text, rng) if copy else text, encoding="utf-8")
            made += size
            files += 1
        copy += 1
    info = {"target": chunks, "chunks_estimated": made, "files": files, "sources": len(base)}
    marker.write_text(json.dumps(info))
    return info


def _source_path(stem: str) -> Path:
    path = ROOT / "corpus" / f"{stem}.txt"
    return path if path.exists() else DEVSET / "text" / f"{stem}.txt"


# --------------------------------------------------------------------------- reused vectors


class ReusedVectors:
    """The configured embedder, computing each passage skeleton's vector once (kept on disk)."""

    def __init__(self, cache: Path) -> None:
        from ingest.embeddings import load_embedder
        from ingest.settings import Settings

        self.model = load_embedder(Settings())
        self.name, self.dim = self.model.name, self.model.dim
        self.cache = cache
        self.vectors: dict[str, np.ndarray] = {}
        if cache.exists():
            data = np.load(cache)
            self.vectors = {k: data[k] for k in data.files}
        self.hits = self.misses = 0

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        keys = [hashlib.sha1(skeleton(t).encode()).hexdigest() for t in texts]
        new = {k: t for k, t in zip(keys, texts) if k not in self.vectors}
        if new:
            for k, v in zip(new, self.model.embed_passages(list(new.values()))):
                self.vectors[k] = np.asarray(v, dtype=np.float32)
        self.misses += len(new)
        self.hits += len(texts) - len(new)
        return np.stack([self.vectors[k] for k in keys])

    def embed_query(self, text: str) -> np.ndarray:
        return self.model.embed_query(text)

    def token_count(self, text: str) -> int:
        return self.model.token_count(text)

    def save(self) -> None:
        tmp = self.cache.with_suffix(".tmp.npz")
        np.savez(tmp, **self.vectors)
        tmp.replace(self.cache)


# --------------------------------------------------------------------------- phases (child processes)


def phase_ingest(args) -> dict:
    from ingest.index import Index
    from ingest.pipeline import ingest_paths
    from ingest.settings import Settings

    embedder = ReusedVectors(args.work / "vectors.npz")
    settings = Settings(data_dir=args.data_dir)
    began = time.perf_counter()
    with Index.open(settings, embedder=embedder, files_root=args.archive) as index:
        summary = ingest_paths(index, [args.archive])
        chunks = index.store.count()
    seconds = time.perf_counter() - began
    embedder.save()
    failed = [o for o in summary.outcomes if o.status == "failed"]
    return {"seconds": round(seconds, 1), "files": len(summary.outcomes), "failed": len(failed),
            "points": chunks, "chunks": sum(o.chunks for o in summary.outcomes),
            "vectors_reused": embedder.hits, "vectors_computed": embedder.misses}


def phase_serve(args) -> dict:
    from ingest.index import Index
    from ingest.pipeline import ingest_paths
    from ingest.settings import Settings
    from rag.assistant import Assistant

    settings = Settings(data_dir=args.data_dir)
    index = Index.open(settings)
    assistant = Assistant(index)
    questions = _questions()
    first = assistant.ask(questions[0])
    cold = time.time() - args.started
    retrieval, answer = [], []
    for _ in range(args.repeat):
        for q in questions:
            began = time.perf_counter()
            assistant.retriever.search(q)
            retrieval.append(time.perf_counter() - began)
            began = time.perf_counter()
            assistant.ask(q)
            answer.append(time.perf_counter() - began)
    # A new file, as the web app adds an upload: written, ingested (sparse first when the
    # pipeline offers it), and asked about by its own number.
    from ingest.metadata import extract_metadata

    # A text of its own each run, so a reused index never holds it already.
    rng = random.Random(f"new file {args.started}")
    name, text = next((n, vary(t, rng)) for n, t in sources() if _askable(extract_metadata([t])[0]))
    new = args.archive / "new" / f"new_{int(args.started)}_{name}.txt"
    new.parent.mkdir(exist_ok=True)
    new.write_text(text, encoding="utf-8")
    began = time.perf_counter()
    kwargs = {"sparse_first": True} if "sparse_first" in ingest_paths.__code__.co_varnames else {}
    summary = ingest_paths(index, [new], **kwargs)
    # As the web app does: only the changed files' catalogue entries are read again.
    assistant.refresh(getattr(summary, "changed_files", None))
    doc = next(d for d in assistant.retriever.documents() if d.file.endswith(new.name))
    found = assistant.ask(f"Văn bản số {doc.metadata.number} do ai ký?")
    added = time.perf_counter() - began
    index.close()
    return {"cold_start_s": round(cold, 2), "first_answer_ok": bool(first.citations),
            "retrieval_p50_ms": _ms(statistics.median(retrieval)), "retrieval_p95_ms": _ms(_p95(retrieval)),
            "answer_p50_ms": _ms(statistics.median(answer)), "answer_p95_ms": _ms(_p95(answer)),
            "questions": len(answer), "new_file_answerable_s": round(added, 2), "new_file_sparse_first": bool(kwargs),
            "new_file_cited": any(c.file.endswith(new.name) for c in found.citations)}


def _askable(meta) -> bool:
    """A document a "who signed number X" question can be asked of: numbered, signed."""
    return bool(meta.number and meta.number[0].isdigit() and meta.signer_name)


def _questions() -> list[str]:
    out = []
    for path in (ROOT / "evals" / "qa.jsonl", DEVSET / "qa.jsonl"):
        out += [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return out


def _p95(values: list[float]) -> float:
    return sorted(values)[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


# --------------------------------------------------------------------------- driver


def _child(phase: str, *extra: str) -> tuple[dict, float]:
    """Run one phase in a fresh process: its JSON report and its peak RSS in MiB."""
    cmd = [sys.executable, __file__, "--phase", phase, *extra]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"phase {phase} failed:\n{out}\n{err[-4000:]}")
    return json.loads(out.strip().splitlines()[-1]), round(usage.ru_maxrss / 1024)


def run_size(work: Path, chunks: int, repeat: int, reuse: bool = False) -> dict:
    archive, data = work / f"archive-{chunks}", work / f"data-{chunks}"
    info = build_archive(archive, chunks)
    shutil.rmtree(archive / "new", ignore_errors=True)
    common = ["--work", str(work), "--data-dir", str(data), "--archive", str(archive)]
    if reuse and (data / "qdrant").is_dir():
        # The index an earlier run built from this archive: serving and re-ingest are measured
        # again (after a change to them) without the hour an ingest of 250k chunks takes.
        ingest, ingest_rss = {"reused": True}, None
    else:
        shutil.rmtree(data, ignore_errors=True)
        ingest, ingest_rss = _child("ingest", *common)
    disk = sum(f.stat().st_size for f in data.rglob("*") if f.is_file())
    serve, serve_rss = _child("serve", *common, "--repeat", str(repeat), "--started", repr(time.time()))
    shutil.rmtree(archive / "new", ignore_errors=True)
    # Unchanged re-ingest, as a user runs it (the new file above is pruned first by its absence:
    # it is reported, not re-read).
    began = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "rag.cli", "ingest", "--quiet", "--json", "--data-dir", str(data),
                           str(archive)], cwd=ROOT, capture_output=True, text=True)
    unchanged = time.perf_counter() - began
    if proc.returncode != 0:
        raise SystemExit(f"re-ingest failed:\n{proc.stdout}\n{proc.stderr[-4000:]}")
    if not ingest.get("reused"):
        ingest |= {"peak_rss_mib": ingest_rss, "chunks_per_s": round(ingest["chunks"] / ingest["seconds"], 1)}
    return {"target_chunks": chunks, "archive": info, "ingest": ingest,
            "disk_mib": round(disk / 2**20), "serve": serve | {"peak_rss_mib": serve_rss},
            "unchanged_reingest_s": round(unchanged, 1), "unchanged_files": info["files"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, action="append", help="archive size(s) in chunks (default 10000)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/congvan-bench-scale"))
    parser.add_argument("--repeat", type=int, default=2, help="passes over the questions when timing answers")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--reuse-index", action="store_true",
                        help="serve and re-ingest the index an earlier run left in --work (ingest not measured)")
    parser.add_argument("--phase", choices=["ingest", "serve"], help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--archive", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--started", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        report = phase_ingest(args) if args.phase == "ingest" else phase_serve(args)
        print(json.dumps(report))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    results = []
    for chunks in args.chunks or [10000]:
        result = run_size(args.work, chunks, args.repeat, reuse=args.reuse_index)
        results.append(result)
        print(json.dumps(result, ensure_ascii=False), flush=True)
    if args.json:
        args.json.write_text(json.dumps({"machine": _machine(), "results": results}, indent=2, ensure_ascii=False))
    print(_table(results))


def _machine() -> dict:
    return {"cpus": os.cpu_count(), "load": os.getloadavg(), "python": sys.version.split()[0]}


def _table(results: list[dict]) -> str:
    rows = ["| chunks | files | ingest chunks/s | ingest RSS MiB | disk MiB | cold start s | retrieval p50/p95 ms "
            "| answer p50/p95 ms | serve RSS MiB | new file answerable s | unchanged re-ingest s |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        s, i = r["serve"], r["ingest"]
        if i.get("reused"):
            i = {"chunks": r["archive"]["chunks_estimated"], "chunks_per_s": "(reused)", "peak_rss_mib": "(reused)"}
        rows.append(f"| {i['chunks']} | {r['archive']['files']} | {i['chunks_per_s']} | {i['peak_rss_mib']} "
                    f"| {r['disk_mib']} | {s['cold_start_s']} | {s['retrieval_p50_ms']}/{s['retrieval_p95_ms']} "
                    f"| {s['answer_p50_ms']}/{s['answer_p95_ms']} | {s['peak_rss_mib']} "
                    f"| {s['new_file_answerable_s']} | {r['unchanged_reingest_s']} |")
    return "\n".join(rows)


if __name__ == "__main__":
    main()
