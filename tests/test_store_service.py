"""The how-to's web service, run end to end with a real HTTP client on both backends.

The page ``docs/howto/store.md`` starts the service (``wsgiref``, one store shared by
request threads) and calls it with ``urllib``; here it runs once per backend, the
service's store given by ``STARS_STORE`` as a deployment would.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from store_support import BACKENDS, store_url

PAGE = Path(__file__).resolve().parent.parent / "docs" / "howto" / "store.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_web_service_of_the_how_to_runs_end_to_end(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STARS_STORE", store_url(backend, tmp_path))
    namespace: dict[str, object] = {"__name__": "howto_store"}
    blocks = BLOCK.findall(PAGE.read_text(encoding="utf-8"))
    assert len(blocks) >= 5
    for i, code in enumerate(blocks):
        exec(compile(code, f"store.md[block {i}]", "exec"), namespace)
    store = namespace["service_store"]
    assert store.backend == ("sqlite" if backend == "sqlite" else "postgresql")  # type: ignore[attr-defined]
