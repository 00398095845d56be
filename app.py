"""The web chat: ``python app.py`` serves it at http://127.0.0.1:7860.

On first run (empty index) the ``corpus/`` folder is ingested with progress in the console;
later runs start in seconds. Host, port, login and uploads come from ``CONGVAN_*`` settings
(see ``ingest/settings.py``). Everything else lives in ``rag/web``.
"""

from ingest.settings import get_settings
from rag.web import serve


def main() -> None:
    serve(get_settings())


if __name__ == "__main__":
    main()
