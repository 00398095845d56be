"""A terminal progress bar for the ``Progress`` callbacks of an ingest or an embed run
(``ingest.pipeline.Progress``: chunks done, chunks known so far, current file)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO


class ChunkBar:
    """A ``Progress`` callback drawing a tqdm bar, opened at the first report with chunks to
    count; the total may grow (an ingest counts the chunks parsed so far). ``shown=False``
    draws nothing (``--quiet``, ``--json``)."""

    def __init__(self, desc: str, *, unit: str = "chunk", file: TextIO | None = None, shown: bool = True) -> None:
        self.desc, self.unit, self.file, self.shown = desc, unit, file, shown
        self.bar = None

    def __call__(self, done: int, total: int, current: str) -> None:
        if not self.shown or total == 0:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit=self.unit, desc=self.desc, file=self.file or sys.stderr)
        self.bar.total = max(self.bar.total or 0, total)
        self.bar.set_postfix_str(Path(current).name[-40:], refresh=False)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
