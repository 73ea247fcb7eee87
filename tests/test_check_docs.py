"""tests/test_check_docs.py -- the transcript runner that keeps the READMEs honest.

check_docs.py runs every "$ " line of every README and compares what it
prints. A runner that passed a wrong README, or failed a right one without
saying why, would make each transcript in this repository worthless, so
its verdicts are checked here on small READMEs written for the purpose.
"""
import check_docs


def run(tmp_path, text):
    readme = tmp_path / "README.md"
    readme.write_text(text)
    return check_docs.check(readme)


def test_a_transcript_that_prints_what_it_shows_passes(tmp_path):
    ran, illustrations, failures = run(tmp_path, "```\n$ echo hello\nhello\n```\n")
    assert (ran, illustrations, failures) == (1, 0, [])


def test_a_transcript_that_prints_something_else_fails_with_a_diff(tmp_path):
    _, _, failures = run(tmp_path, "```\n$ echo hello\ngoodbye\n```\n")
    assert len(failures) == 1
    assert "-goodbye" in failures[0] and "+hello" in failures[0]


def test_a_background_job_that_already_exited_is_named_as_exited(tmp_path, monkeypatch):
    # As a server does when its port is taken and its error goes to
    # /dev/null: silence, then an exit. The failure must say which.
    monkeypatch.setattr(check_docs, "READY_SECONDS", 1)
    _, _, failures = run(tmp_path, "```\n$ (exit 3) &\nlistening on 127.0.0.1:20000\n```\n")
    assert len(failures) == 1
    assert "no end after" in failures[0] and "Exit 3" in failures[0], failures[0]


def test_a_background_job_still_starting_is_named_as_running(tmp_path, monkeypatch):
    monkeypatch.setattr(check_docs, "READY_SECONDS", 1)
    _, _, failures = run(tmp_path, "```\n$ sleep 30 &\nlistening on 127.0.0.1:20000\n```\n")
    assert len(failures) == 1
    assert "Running" in failures[0], failures[0]
