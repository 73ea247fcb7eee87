"""tests/test_recipe.py -- the top README's "Adding a chapter", followed to the letter.

A copy of this working tree gets a chapter numbered 10 (two digits that do
not start with 0: the globs must say [0-9][0-9]_*, not 0[0-9]_*), made as
the recipe says and nothing more. Then, in the copy: CI's clang-format
check covers it, `make` builds it, git ignores its binaries, the contract
tests and the README runner run it, and the tour stops at it. If any of
those finds chapters by a pattern the recipe does not mention, this fails.
"""
import os
import shutil
import subprocess
import sys

from harness import ROOT

NEW = "10_recipe_echo"

# Step 1: a README that opens with "New in this chapter" and "Builds on" and
# ends with "Next:", with one transcript for `make check-docs` to run.
README = """# 10 — A chapter added by the recipe

**New in this chapter:** nothing; it is chapter 03's server, copied.
**Builds on:** [03](../03_stream_handler/README.md).

```
$ ./server 2>/dev/null &
listening on 127.0.0.1:20000
$ ./client hello
hello
$ kill $!; wait $!
```

**Next:** nothing yet.
"""


def run(argv, cwd, timeout=300):
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{argv}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def test_a_chapter_added_by_the_recipe_builds_tests_and_tours(tmp_path):
    tree = tmp_path / "tree"
    # The copy keeps the built objects and their times, so make builds only
    # the new chapter.
    shutil.copytree(ROOT, tree, symlinks=True,
                    ignore=shutil.ignore_patterns(".git", "__pycache__", ".pytest_cache", "bench"))
    chapter = tree / NEW
    chapter.mkdir()
    source = ROOT / "03_stream_handler"
    (chapter / "Makefile").write_text((source / "Makefile").read_text()
                                      .replace("03_stream_handler", NEW))
    for name in ("server.cpp", "client.cpp", "reference.py"):
        (chapter / name).write_text((source / name).read_text().replace("03_stream_handler", NEW))
    (chapter / "README.md").write_text(README)

    # Step 5: CI's format check, word for word from .ci/run, sees the new files.
    ci = (ROOT / ".ci" / "run").read_text()
    format_check = next(line for line in ci.splitlines() if line.startswith("clang-format "))
    listed = run(["bash", "-c", format_check.replace("--dry-run --Werror", "--dry-run --verbose")
                  + " 2>&1"], tree)
    assert f"{NEW}/server.cpp" in listed and f"{NEW}/client.cpp" in listed
    run(["bash", "-c", format_check], tree)

    # Step 3: the Makefile finds it by its folder name...
    run(["make", "-s", "all"], tree)
    assert os.access(chapter / "server", os.X_OK) and os.access(chapter / "client", os.X_OK)
    # ...git ignores what it builds...
    run(["git", "init", "-q"], tree)
    ignored = run(["git", "check-ignore", f"{NEW}/server", f"{NEW}/client"], tree)
    assert ignored.split() == [f"{NEW}/server", f"{NEW}/client"]
    # ...the contract tests run against both of its twins...
    out = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "tests/test_contract.py", "-k", NEW], tree)
    passed = int(out.strip().splitlines()[-1].split()[0])
    assert passed >= 20, out
    # ...`make check-docs` runs its transcript...
    assert f"ok   {NEW}/README.md: 3 commands run" in run(
        [sys.executable, "tests/check_docs.py", f"{NEW}/README.md"], tree)
    # ...and the tour stops at it.
    tour = run([sys.executable, "tests/tour.py"], tree)
    assert f"== {NEW}:" in tour and "tour: 9 of 9 chapters" in tour, tour[-2000:]
