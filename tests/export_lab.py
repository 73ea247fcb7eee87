#!/usr/bin/env python3
"""tests/export_lab.py -- `make export`: one chapter as a self-contained lab folder.

    make -C 04_threading export DEST=../lab4     (or, from the top:)
    make export CHAPTER=04 DEST=../lab4
    cd ../lab4 && make && make test

The lab keeps the repository's layout, cut down to one chapter, so every
path in the chapter's sources, Makefile and tests works unchanged:

    DEST/Makefile            make (build), make test (unit of the lab: the
                             chapter's black-box tests, C++ and Python twin)
    DEST/LAB.md              what to build, how to run it, how to check it
    DEST/NN_name/            the chapter: sources, reference.py, README.md
    DEST/common/             only the common/ files the chapter includes,
                             followed transitively from its #include lines
                             (a .hpp brings its .cpp), plus build.mk, its
                             probes and contract.py
    DEST/tests/              conftest.py, harness.py, deps.sh, the chapter's
                             test file and the contract tests (which run
                             for the chapters present: this one)

With STARTER=1 (--starter) the lab is a starter: each region of the
chapter's lesson code, marked in the sources by a comment line at each end,

    // lab: write the accept loop          (in the chapter's own files)
    // lab 04: hand each request to ...    (in common/, for chapter 04 only)
    ...
    // lab: end

is replaced by a stub that compiles and fails clearly when it runs:
throw std::logic_error("lab: write the accept loop"). `make` succeeds,
`make test` lists what is still to write and fails; with the regions
written back it passes.

Refuses, with one line and exit 2, a chapter that does not exist or a DEST
that exists and is not empty. Writes nothing outside DEST. Standard
library only.
"""
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)
LAB_BEGIN = re.compile(r"^(\s*)// lab(?: (\d\d))?: (.+)$")
LAB_END = re.compile(r"^\s*// lab: end$")
HARNESS = ["conftest.py", "harness.py", "deps.sh", "test_contract.py"]


def fail(message):
    sys.stderr.write(f"error: {message}\n")
    sys.exit(2)


def find_chapter(name):
    """'04', '04_threading' or a path to it -> the chapter folder."""
    name = Path(name).name
    matches = [p for p in sorted(ROOT.glob("[0-9][0-9]_*"))
               if (p / "reference.py").exists() and (p.name == name or p.name[:2] == name)]
    if len(matches) != 1:
        fail(f"no chapter '{name}' (chapters: "
             f"{', '.join(p.name for p in sorted(ROOT.glob('[0-9][0-9]_*')))})")
    return matches[0]


def common_files(sources):
    """The common/ files `sources` include, transitively; a header brings
    the .cpp of the same name, whose includes count too."""
    wanted, todo = set(), list(sources)
    while todo:
        text = todo.pop().read_text()
        for name in INCLUDE.findall(text):
            path = ROOT / "common" / name
            if not path.exists() or path in wanted:
                continue  # a system header, or seen already
            wanted.add(path)
            todo.append(path)
            source = path.with_suffix(".cpp")
            if source.exists() and source not in wanted:
                wanted.add(source)
                todo.append(source)
    return sorted(wanted)


def stub_regions(path, number):
    """Replaces each lab region of this chapter in the file at `path` by a
    stub; returns the texts of the regions replaced."""
    out, stubs, lines = [], [], path.read_text().split("\n")
    i = 0
    while i < len(lines):
        begin = None if LAB_END.match(lines[i]) else LAB_BEGIN.match(lines[i])
        if not begin or begin.group(2) not in (None, number):
            out.append(lines[i])
            i += 1
            continue
        indent, text = begin.group(1), begin.group(3)
        end = next(j for j in range(i + 1, len(lines)) if LAB_END.match(lines[j]))
        out.append(f'{indent}throw std::logic_error("lab: {text}");  // your code here')
        stubs.append(text)
        i = end + 1
    if stubs:
        text = "\n".join(out)
        if "<stdexcept>" not in text:
            first = text.index("#include")
            text = text[:first] + "#include <stdexcept>\n" + text[first:]
        path.write_text(text)
    return stubs


def lab_makefile(chapter, starter):
    relax = ("# A starter: the stubs leave parameters and helpers unused for now.\n"
             "export LAB_CXXFLAGS := -Wno-unused-parameter -Wno-unused-function "
             "-Wno-unused-variable -Wno-unused-but-set-variable\n") if starter else ""
    todo = ("\t@grep -rho 'logic_error(\"lab: [^\"]*' " + chapter +
            " common | sed 's/.*lab: /  still to write: /' || true\n") if starter else ""
    return relax + f"""# A lab folder exported from the socketserver tutorial (make export).
#   make          build {chapter}/server and {chapter}/client
#   make test     the chapter's black-box tests, against the C++ and the Python twin
#   make test IMPL=cpp   (or IMPL=py) against one of them
#   make test PYTEST_ARGS=-x   stop at the first failure
IMPL ?=
PYTEST_ARGS ?=
all:
\t@$(MAKE) --no-print-directory -C {chapter}

test: all
{todo}\t$$(tests/deps.sh --python) -m pytest tests -q -p no:cacheprovider $(if $(IMPL),-k $(IMPL)) $(PYTEST_ARGS)

clean:
\t@$(MAKE) --no-print-directory -C {chapter} clean
\trm -rf .build

.PHONY: all test clean
"""


def lab_readme(chapter, common, stubs):
    listed = "\n".join(f"  - `common/{p.name}`" for p in common)
    todo = ""
    if stubs:
        todo = ("\n## Your part\n\nThis is a starter lab. Where the chapter's lesson code was, a stub\n"
                "now throws `std::logic_error(\"lab: ...\")`: find them with\n"
                "`grep -rn 'lab: ' " + chapter + " common`, and write:\n\n" +
                "\n".join(f"- {text}" for text in stubs) +
                "\n\n`make` builds as it is; `make test` fails until they are written.\n")
    return f"""# Lab: {chapter}{todo}

Exported from the socketserver tutorial with `make export`. The chapter's
own README is `{chapter}/README.md`: read it first.

## Build

    make

needs only GNU make and a C++20 compiler (g++ 12 or clang++ 14). It builds
`{chapter}/server` and `{chapter}/client`.

## Run

    cd {chapter}
    ./server &          # prints "listening on 127.0.0.1:20000"
    ./client hello
    python3 reference.py server --port 20001   # the Python twin

## Check

    make test           # the black-box tests, C++ and Python twin
    make test IMPL=cpp  # against your C++ only

The tests start the real programs and talk to them over loopback sockets;
they need Python 3 and pytest (`apt-get install python3-pytest`).

## What is here

- `{chapter}/`: the chapter's sources, its Python twin, its README.
- `common/`: the parts of the tutorial's library this chapter uses, and
  nothing else:
{listed}
- `tests/`: the harness (`conftest.py`, `harness.py`), the chapter's tests
  and the contract every chapter keeps (`test_contract.py`).
"""


def export(chapter_dir, dest, starter=False):
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        fail(f"{dest} exists and is not empty")
    sources = sorted(chapter_dir.glob("*.[ch]pp"))  # its own headers' includes count too
    common = common_files(sources)
    tests = [ROOT / "tests" / name for name in HARNESS]
    test_file = ROOT / "tests" / f"test_{chapter_dir.name}.py"
    if test_file.exists():
        tests.append(test_file)

    dest.mkdir(parents=True, exist_ok=True)
    chapter = dest / chapter_dir.name
    chapter.mkdir()
    for path in sorted(chapter_dir.iterdir()):
        if path.is_file() and (path.suffix in (".cpp", ".hpp", ".py", ".md")
                               or path.name == "Makefile"):
            shutil.copy2(path, chapter / path.name)
    (dest / "common").mkdir()
    for path in common + [ROOT / "common" / "build.mk", ROOT / "common" / "contract.py"]:
        shutil.copy2(path, dest / "common" / path.name)
    shutil.copytree(ROOT / "common" / "probes", dest / "common" / "probes")
    (dest / "tests").mkdir()
    for path in tests:
        shutil.copy2(path, dest / "tests" / path.name)
    stubs = []
    if starter:
        for path in sorted(chapter.glob("*.[ch]pp")) + sorted((dest / "common").glob("*.[ch]pp")):
            stubs += stub_regions(path, chapter_dir.name[:2])
        if not stubs:
            fail(f"{chapter_dir.name} marks no lab region (// lab: ...)")
    (dest / "Makefile").write_text(lab_makefile(chapter_dir.name, starter))
    (dest / "LAB.md").write_text(lab_readme(chapter_dir.name, common, stubs))
    (dest / ".gitignore").write_text("/.build/\nserver\nclient\n__pycache__/\n")
    print(f"exported {chapter_dir.name} to {dest}: {len(common)} common/ files"
          f"{f', a starter with {len(stubs)} stubs' if starter else ''}; "
          f"cd {dest} && make && make test")


def main(argv):
    starter = "--starter" in argv
    argv = [a for a in argv if a != "--starter"]
    if len(argv) != 2 or not argv[1]:
        fail("usage: export_lab.py [--starter] CHAPTER DEST "
             "(make export CHAPTER=04 DEST=../lab4 [STARTER=1])")
    export(find_chapter(argv[0]), Path(argv[1]).resolve(), starter)


if __name__ == "__main__":
    main(sys.argv[1:])
