"""Fuzzed declaration files (the shipped examples with values replaced or removed, random
YAML, random bytes): a reload never raises, every problem names its file, a line and a
message, and the last good version of a file stays in force."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from collector.declarations.registry import DeclarationRegistry
from tests.support.mutate import json_values, mutated

EXAMPLES = Path(__file__).parents[4] / "deploy" / "examples" / "projects"


def _documents(name: str) -> list[Any]:
    return [d for d in yaml.safe_load_all((EXAMPLES / name).read_text()) if d is not None]


def _texts(name: str) -> st.SearchStrategy[bytes]:
    as_yaml = st.builds(
        lambda docs: yaml.safe_dump_all(
            docs if isinstance(docs, list) else [docs], sort_keys=False
        ).encode(),
        mutated(_documents(name)),
    )
    other = st.builds(lambda d: yaml.safe_dump(d).encode(), json_values)
    return st.one_of(as_yaml, as_yaml, other, st.binary(max_size=200))


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_a_broken_file_is_reported_by_line_and_the_last_good_one_stays(
    name: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("declarations")
    path = folder / name
    path.write_bytes((EXAMPLES / name).read_bytes())
    registry = DeclarationRegistry(folder)
    good = registry.reload()
    assert good.errors == ()
    declared = set(good.catalog.declared_projects())

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(text=_texts(name))
    @example(text=b"apiVersion: outcomes/v1\nkind: []\nmetadata: {name: a}\nspec: {}\n")
    @example(text=b"apiVersion: outcomes/v1\nkind: {Project: 1}\nmetadata: {name: a}\n")
    def check(text: bytes) -> None:
        path.write_bytes(text)
        result = registry.reload()
        for error in result.errors:
            assert error.file == path and error.line >= 1 and error.message, error
        if result.errors:
            assert set(result.catalog.declared_projects()) == declared
        path.write_bytes((EXAMPLES / name).read_bytes())
        assert registry.reload().errors == ()

    check()
