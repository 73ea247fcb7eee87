"""tests/test_export.py -- `make export`: the lab folder's contents and refusals.

The whole proof (every chapter exported outside the repository, built, and
graded by its own `make test`; a wrong solution failing) takes minutes, so
CI runs it as tests/check_labs.sh. Here: what a README promises about
common/, and the refusals, in a second or two.
"""
import re
import subprocess
import sys

import pytest

from conftest import CHAPTERS, ROOT

EXPORT = [sys.executable, str(ROOT / "tests" / "export_lab.py")]


def included(chapter):
    """The common/ headers the chapter's own sources and headers include."""
    names = set()
    for source in (ROOT / chapter).glob("*.[ch]pp"):
        names |= set(re.findall(r'#include "([^"]+)"', source.read_text()))
    return {name for name in names if (ROOT / "common" / name).exists()}


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_each_chapter_readme_lists_the_common_headers_it_includes(chapter):
    readme = (ROOT / chapter / "README.md").read_text()
    section = readme.split("## What it uses from common/", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\* `common/([^`]+)` — \S", section, re.MULTILINE))
    assert listed == included(chapter)


def test_an_export_holds_the_chapter_and_only_the_common_files_it_needs(tmp_path):
    dest = tmp_path / "lab"
    result = subprocess.run(EXPORT + ["05", str(dest)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    common = {p.name for p in (dest / "common").iterdir()}
    assert "threading_mixin.hpp" not in common  # 05 forks: no thread mix-in
    assert {"base_server.hpp", "base_server.cpp", "stop.hpp", "build.mk", "contract.py"} <= common
    assert (dest / "05_forking" / "server.cpp").exists()
    assert (dest / "tests" / "test_05_forking.py").exists()
    assert not (dest / "tests" / "test_04_threading.py").exists()
    assert (dest / "LAB.md").exists() and (dest / "Makefile").exists()


def test_an_export_refuses_a_missing_chapter_or_a_folder_in_use(tmp_path):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "precious").write_text("mine")
    result = subprocess.run(EXPORT + ["04", str(busy)], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr == f"error: {busy} exists and is not empty\n"
    assert [p.name for p in busy.iterdir()] == ["precious"]  # nothing written
    result = subprocess.run(EXPORT + ["99", str(tmp_path / "new")], capture_output=True, text=True)
    assert result.returncode == 2 and result.stderr.startswith("error: no chapter '99'")
    assert not (tmp_path / "new").exists()


def test_no_common_file_shares_a_name_with_a_chapter_file():
    # So a lab can also be copied flat into one folder without one file
    # overwriting another (common/server.cpp once did: now base_server.cpp).
    common = {p.name for p in (ROOT / "common").iterdir() if p.is_file()}
    for chapter in CHAPTERS:
        clashes = common & {p.name for p in (ROOT / chapter).iterdir() if p.is_file()}
        assert not clashes, (chapter, clashes)
