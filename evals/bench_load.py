"""Load test of the web app: simulated users asking questions through its API for programs, ``/answer``.

Run from the repository root:

    python evals/bench_load.py                       # starts `python app.py`, 20 users, 60 s
    python evals/bench_load.py --url http://127.0.0.1:7860   # against a running `python app.py`

Each simulated user calls the app's API for programs, ``/answer`` (plain HTTP to
``/gradio_api/call/answer``, as ``gradio_client`` does): it asks a question with the earlier
questions of its conversation as ``history``, waits for the JSON answer, thinks for ``--think``
seconds (randomised ±50 %), and starts a new conversation (empty history) every ``--turns``
questions. The run is bounded in time (``--duration``) and in count (``--max-requests``), and
only ever talks to a loopback address. Prints one JSON object: latency percentiles (ms),
throughput and errors. An error is a failed call, a refusal (Gradio's error event) or a reply
that is not an answer object.

Without ``--url`` the script runs ``python app.py`` on a free 127.0.0.1 port over ``--data-dir``
(default: the settings' data dir), which ingests ``corpus/`` first if that index is empty; stop
any other ``python app.py`` using the same data dir first (the embedded index allows one
process). The clients run in this process, the app in its own, as in real use.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent

QUESTIONS = [
    "Đơn vị nào phải báo cáo trước ngày 10/11?",
    "Sở LĐTBXH phải làm gì trong tháng 11/2024?",
    "Ai ký Công văn 3452/UBND-VX?",
    "Còn huyện Bắc Sơn thì sao?",
    "Mục tiêu cụ thể của kế hoạch công tác trẻ em năm 2024 là gì?",
    "ngay cong tac xa hoi viet nam to chuc the nao",
    "Chương trình 61-CTr/TU giao nhiệm vụ gì cho Ủy ban nhân dân các huyện?",
    "Chỉ thị 28-CT/TW nói về vấn đề gì?",
    "Ai ký kế hoạch của UBND huyện Bắc Sơn?",
    "Báo cáo 6 tháng phải gửi trước ngày nào?",
]


def is_loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


class Recorder:
    """Thread-safe tally of latencies and errors, with a shared request budget."""

    def __init__(self, max_requests: int) -> None:
        self.lock = threading.Lock()
        self.latencies_ms: list[float] = []
        self.errors: list[str] = []
        self.started = 0
        self.max_requests = max_requests

    def take(self) -> bool:
        with self.lock:
            if self.started >= self.max_requests:
                return False
            self.started += 1
            return True

    def ok(self, ms: float) -> None:
        with self.lock:
            self.latencies_ms.append(ms)

    def fail(self, message: str) -> None:
        with self.lock:
            self.errors.append(message[:300])


class ApiError(RuntimeError):
    """The endpoint refused or failed a call; ``message`` is what the app said."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class Session:
    """One program's use of ``/answer`` over plain HTTP (``/gradio_api/call/answer``).

    The endpoint is stateless: the conversation is the ``history`` this object keeps and sends
    with every question, and ``new_conversation`` empties it. Plain ``httpx`` keeps the
    client's own CPU use small, so the figures measure the app.
    """

    def __init__(self, url: str, timeout: float) -> None:
        import httpx

        self.base = url.rstrip("/") + "/gradio_api/call/answer"
        self.http = httpx.Client(timeout=timeout)
        self.history: list[str] = []

    def new_conversation(self) -> None:
        self.history = []

    def ask(self, question: str, filters: dict | None = None) -> dict:
        """The answer object for ``question`` as a follow-up of this conversation; raises
        ``ApiError`` when the app refuses or fails it, ``httpx.HTTPError`` on a transport error."""
        answer = self.call(question, list(self.history), filters or {})
        self.history.append(question)
        return answer

    def call(self, question: str, history: list[str], filters: dict) -> dict:
        """One stateless ``/answer`` call."""
        r = self.http.post(self.base, json={"data": [question, history, filters]})
        r.raise_for_status()
        event_id = r.json()["event_id"]
        event = None
        with self.http.stream("GET", f"{self.base}/{event_id}") as stream:
            stream.raise_for_status()
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    payload = json.loads(line[5:].strip() or "null")
                    if event == "error":
                        message = payload.get("error") if isinstance(payload, dict) else payload
                        raise ApiError(str(message or "the app reported an error without a message"))
                    return payload[0]
        raise ApiError("the stream ended without a result")

    def close(self) -> None:
        self.http.close()


def user(url: str, n: int, deadline: float, think: float, turns: int, timeout: float, rec: Recorder) -> None:
    rng = random.Random(n)
    session = Session(url, timeout)
    asked = 0
    try:
        while time.monotonic() < deadline and rec.take():
            if asked and asked % turns == 0:
                session.new_conversation()
            question = QUESTIONS[(n + asked) % len(QUESTIONS)]
            began = time.perf_counter()
            try:
                answer = session.ask(question)
                elapsed = (time.perf_counter() - began) * 1000
                if not isinstance(answer, dict) or not answer.get("answer"):
                    rec.fail(f"user {n}: not an answer for {question!r}: {str(answer)[:120]}")
                else:
                    rec.ok(elapsed)
            except Exception as exc:  # noqa: BLE001 - counted and reported, never raised
                rec.fail(f"user {n}: {question!r}: {exc!r}")
            asked += 1
            if think > 0:
                time.sleep(min(think * rng.uniform(0.5, 1.5), max(0.0, deadline - time.monotonic())))
    finally:
        session.close()


def run(url: str, *, users: int, duration: float, think: float, turns: int, max_requests: int,
        timeout: float) -> dict:
    if not is_loopback(url):
        raise SystemExit(f"refusing {url}: the load test only targets loopback addresses (127.0.0.1, localhost)")
    rec = Recorder(max_requests)
    began = time.monotonic()
    deadline = began + duration
    threads = [threading.Thread(target=user, args=(url, n, deadline, think, turns, timeout, rec), daemon=True)
               for n in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration + timeout + 30)
    wall = time.monotonic() - began
    lat = rec.latencies_ms
    return {
        "url": url,
        "users": users,
        "duration_s": duration,
        "wall_s": round(wall, 1),
        "think_s": think,
        "requests": len(lat) + len(rec.errors),
        "ok": len(lat),
        "errors": len(rec.errors),
        "error_samples": rec.errors[:5],
        "throughput_rps": round(len(lat) / wall, 2) if wall else 0.0,
        "latency_ms": {
            "p50": round(percentile(lat, 50), 1) if lat else None,
            "p95": round(percentile(lat, 95), 1) if lat else None,
            "p99": round(percentile(lat, 99), 1) if lat else None,
            "max": round(max(lat), 1) if lat else None,
            "mean": round(statistics.fmean(lat), 1) if lat else None,
        },
    }


def start_app(data_dir: Path | None, ready_timeout: float = 600.0):
    """Run ``python app.py`` on a free loopback port (its own process, as users run it).

    Returns the URL and a function that stops it. A first run ingests ``corpus/`` before
    serving, hence the long readiness timeout.
    """
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "CONGVAN_HOST": "127.0.0.1", "CONGVAN_PORT": str(port)}
    if data_dir:
        env["CONGVAN_DATA_DIR"] = str(data_dir)
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the app exited with {proc.returncode}:\n{proc.stderr.read()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    else:
        proc.terminate()
        raise SystemExit("the app did not start in time")

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()

    return url, stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running app (loopback only); default: start `python app.py`")
    parser.add_argument("--data-dir", type=Path, help="index for the started app (default: CONGVAN_DATA_DIR)")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between a user's questions (s)")
    parser.add_argument("--turns", type=int, default=5, help="questions per conversation")
    parser.add_argument("--max-requests", type=int, default=5000, help="hard cap on questions asked")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-request timeout (s)")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()

    stop = None
    url = args.url
    extra: dict = {}
    if url is None:
        url, stop = start_app(args.data_dir)
        extra = {"app": "python app.py (started by this script)"}
    try:
        result = run(url, users=args.users, duration=args.duration, think=args.think, turns=args.turns,
                     max_requests=args.max_requests, timeout=args.timeout) | extra
    finally:
        if stop:
            stop()
    text = json.dumps(result, ensure_ascii=False, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    if result["errors"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
