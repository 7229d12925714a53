"""The programme's stores: crash-safe, verified folder saves (killed at every file operation),
locking, damage detection, and the SQLite store with conversion both ways."""
import filecmp
import json
import os
import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

import mentormatch as mm
from mentormatch.errors import StoreError, ValidationError
from mentormatch.programme import Programme, convert
from mentormatch.programme.store import files as F

RULES = {"weights": {"experience": 1.0, "geography": 1.0}}
DATES = ["2026-01-15", "2026-04-15", "2026-07-15"]


def _programme(rounds: int) -> Programme:
    """A small programme after ``rounds`` rounds, with leavers and outcomes."""
    mentors, mentees = mm.synthetic.organisation(n_mentees=24, n_mentors=8, seed=3)
    drop = ["preferences", "manager_suggestions", "manager_id"]
    mentors, mentees = (t.drop(columns=[c for c in drop if c in t.columns]) for t in (mentors, mentees))
    prog = Programme(RULES)
    for k in range(rounds):
        prog.run_round(mentors, mentees.iloc[: 24 - 3 * k].reset_index(drop=True), date=DATES[k])
    live = prog.in_force()
    prog.record_outcomes(pd.DataFrame({"mentee_id": live["mentee_id"].iloc[:3],
                                       "mentor_id": live["mentor_id"].iloc[:3],
                                       "satisfaction": [4.0, 5.0, 3.0]}))
    return prog


def _files(d: Path):
    return sorted(str(p.relative_to(d)) for p in d.rglob("*") if p.is_file())


def _state(prog: Programme):
    """What identifies a whole state: every table, as CSV text."""
    return (prog.history.to_csv(), prog.outcomes.to_csv(),
            tuple((r.number, r.date, r.pairs.to_csv(), r.unmatched.to_csv()) for r in prog.rounds))


@pytest.fixture(scope="module")
def two_states():
    return _programme(2), _programme(3)


# --------------------------------------------------------------------------------------------
# killed saves
# --------------------------------------------------------------------------------------------
def _ops_of_save(prog, target):
    """The file operations of one save, in order (op, path)."""
    seen = []
    F.fault_hook = lambda op, path: seen.append((op, path))
    try:
        prog.save(target)
    finally:
        F.fault_hook = None
    return seen


def _save_killed_at(prog, target, k):
    """Save in a forked child that ends itself (os._exit, no cleanup) before its k-th file op."""
    pid = os.fork()
    if pid == 0:  # the child
        count = [0]

        def die(op, path):
            count[0] += 1
            if count[0] == k:
                os._exit(17)

        F.fault_hook = die
        try:
            prog.save(target)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize("grow", [True, False], ids=["adds-a-round", "drops-a-round"])
def test_a_save_killed_at_any_file_operation_loads_as_old_or_new(two_states, tmp_path, grow):
    old, new = two_states if grow else two_states[::-1]
    base = tmp_path / "base"
    old.save(base)
    probe = tmp_path / "probe"
    shutil.copytree(base, probe)
    ops = _ops_of_save(new, probe)
    commit = next(i for i, (op, path) in enumerate(ops, start=1)
                  if op == "replace" and path.endswith(".staging/manifest.json"))
    assert len(ops) > 20 and 1 < commit < len(ops)
    clean = _files(probe)
    for k in range(1, len(ops) + 2):
        d = tmp_path / f"k{k}"
        shutil.copytree(base, d)
        code = _save_killed_at(new, d, k)
        assert code == (17 if k <= len(ops) else 0)
        loaded = Programme.load(d)
        # before the commit the old state, from it on the new one; never a mix or an error
        assert _state(loaded) == _state(old if k <= commit else new), (k, ops[k - 1:k])
        # the load finished or cleared the killed save: no leftovers
        assert _files(d) == (clean if k > commit else _files(base)), k
        # and the next save works
        new.save(d)
        assert _state(Programme.load(d)) == _state(new)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_first_save_killed_loads_as_nothing_or_new(two_states, tmp_path):
    _, new = two_states
    ops = _ops_of_save(new, tmp_path / "probe")
    for k in range(1, len(ops) + 1, 3):
        d = tmp_path / f"k{k}"
        assert _save_killed_at(new, d, k) == 17
        try:
            loaded = Programme.load(d)
        except StoreError as exc:  # nothing was committed: no programme there, said so
            assert "manifest.json" in str(exc) or str(d) in str(exc)
        else:
            assert _state(loaded) == _state(new)


def test_leftovers_of_an_uncommitted_save_are_removed(two_states, tmp_path):
    old, _ = two_states
    d = old.save(tmp_path / "p")
    before = {f: (d / f).read_bytes() for f in _files(d)}
    (d / ".staging" / "rounds").mkdir(parents=True)
    (d / ".staging" / "history.csv").write_text("half a fi")
    Programme.load(d)
    assert {f: (d / f).read_bytes() for f in _files(d)} == before
    assert not (d / ".staging").exists()


def test_a_locked_store_gives_a_clear_error(two_states, tmp_path, monkeypatch):
    import fcntl

    old, new = two_states
    d = old.save(tmp_path / "p")
    before = {f: (d / f).read_bytes() for f in _files(d)}
    monkeypatch.setattr(F, "LOCK_TIMEOUT", 0.2)
    fd = os.open(d / ".lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another process saving, as far as flock can tell
    try:
        with pytest.raises(StoreError, match="locked by another process") as info:
            new.save(d)
        assert info.value.problems[0].table == str(d)
    finally:
        os.close(fd)
    assert {f: (d / f).read_bytes() for f in _files(d)} == before
    new.save(d)  # once released, it saves
    assert _state(Programme.load(d)) == _state(new)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_concurrent_saves_take_turns(two_states, tmp_path):
    old, new = two_states
    d = old.save(tmp_path / "p")
    children = []
    for prog in (old, new, old, new):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                for _ in range(3):
                    prog.save(d)
            except BaseException:
                code = 1
            os._exit(code)
        children.append(pid)
    for _ in range(5):  # loads meanwhile: each one whole state
        assert _state(Programme.load(d)) in (_state(old), _state(new))
    assert [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in children] == [0, 0, 0, 0]
    assert _state(Programme.load(d)) in (_state(old), _state(new))
    assert not (d / ".staging").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p"]


# --------------------------------------------------------------------------------------------
# damage
# --------------------------------------------------------------------------------------------
def _saved(tmp_path, prog):
    return prog.save(tmp_path / "p")


def _manifest(d):
    return json.loads((d / "manifest.json").read_text())


def _write_manifest(d, manifest):
    (d / "manifest.json").write_text(json.dumps(manifest, indent=2))


def test_truncated_file_at_a_line_end(two_states, tmp_path):
    d = _saved(tmp_path, two_states[0])
    lines = (d / "history.csv").read_bytes().splitlines(keepends=True)
    (d / "history.csv").write_bytes(b"".join(lines[:-2]))
    with pytest.raises(StoreError, match="SHA-256") as info:
        Programme.load(d)
    assert info.value.problems[0].table.endswith("history.csv")


def test_bit_flip(two_states, tmp_path):
    d = _saved(tmp_path, two_states[0])
    path = d / "rounds" / "round-002-pairs.csv"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError) as info:
        Programme.load(d)
    assert info.value.problems[0].table.endswith("round-002-pairs.csv")


def test_row_count_mismatch(two_states, tmp_path):
    d = _saved(tmp_path, two_states[0])
    manifest = _manifest(d)
    rows = manifest["files"]["outcomes.csv"]["rows"]
    manifest["files"]["outcomes.csv"]["rows"] = rows + 1
    _write_manifest(d, manifest)
    with pytest.raises(StoreError) as info:
        Programme.load(d)
    p = info.value.problems[0]
    assert p.table.endswith("outcomes.csv") and p.column == "rows" and p.value == rows


def test_manifest_listing_fewer_rounds_than_the_history(two_states, tmp_path):
    d = _saved(tmp_path, two_states[1])
    manifest = _manifest(d)
    last = manifest["rounds"].pop()
    for key in ("pairs", "unmatched"):
        del manifest["files"][last[key]]
    _write_manifest(d, manifest)
    with pytest.raises(StoreError, match="lists 2 round") as info:
        Programme.load(d)
    assert "history" in info.value.problems[0].table


@pytest.mark.parametrize("key, value", [
    ("objective", "a lot"), ("date", "2026-13-01"), ("number", "1"), ("notes", "none"),
    ("sha256", "xyz"), ("rows", -1), ("rows", "12"), ("rows", True)])
def test_malformed_manifest_value(two_states, tmp_path, key, value):
    d = _saved(tmp_path, two_states[0])
    manifest = _manifest(d)
    if key in ("sha256", "rows"):
        manifest["files"]["history.csv"][key] = value
    else:
        manifest["rounds"][0][key] = value
    _write_manifest(d, manifest)
    with pytest.raises(StoreError) as info:
        Programme.load(d)
    p = info.value.problems[0]
    assert p.table.endswith("manifest.json") and key in p.column and p.value == value


def test_damage_is_reported_as_a_validation_error_too(two_states, tmp_path):
    d = _saved(tmp_path, two_states[0])
    (d / "outcomes.csv").write_text("mentee_id\n")
    with pytest.raises(ValidationError, match="outcomes.csv"):
        Programme.load(d)


# --------------------------------------------------------------------------------------------
# SQLite
# --------------------------------------------------------------------------------------------
def _dump(path):
    con = sqlite3.connect(path)
    try:
        return list(con.iterdump())
    finally:
        con.close()


def test_sqlite_round_trip_is_identical(two_states, tmp_path):
    prog = two_states[1]
    a = prog.save(tmp_path / "a.sqlite")
    loaded = Programme.load(a)
    b = loaded.save(tmp_path / "b.db")
    assert _dump(a) == _dump(b)
    assert _state(loaded) == _state(prog)
    pd.testing.assert_frame_equal(loaded.history, prog.history)
    pd.testing.assert_frame_equal(loaded.outcomes, prog.outcomes)
    for x, y in zip(loaded.rounds, prog.rounds):
        pd.testing.assert_frame_equal(x.pairs, y.pairs)
        pd.testing.assert_frame_equal(x.unmatched, y.unmatched)
        assert (x.number, x.date, x.status, x.solver, x.notes) == (y.number, y.date, y.status,
                                                                  y.solver, y.notes)
        assert x.objective == pytest.approx(y.objective, abs=0, rel=0)
    assert loaded.parameters() == prog.parameters()
    same = [json.dumps(p.rules.to_dict(), sort_keys=True) for p in (prog, loaded)]
    assert same[0] == same[1]


def test_sqlite_url_makes_a_file_and_converts_both_ways(two_states, tmp_path, monkeypatch):
    prog = two_states[1]
    folder_a = prog.save(tmp_path / "a")
    monkeypatch.chdir(tmp_path)
    out = convert(folder_a, "sqlite:///store/prog")
    db = tmp_path / "store" / "prog"
    assert out == Path("store/prog") and db.is_file() and not db.is_dir()
    assert _dump(db)[0] == "BEGIN TRANSACTION;"
    convert(f"sqlite:///{db}", tmp_path / "b")
    names = _files(folder_a)
    assert names == _files(tmp_path / "b")
    assert filecmp.cmpfiles(folder_a, tmp_path / "b", names, shallow=False)[1:] == ([], [])


def test_sqlite_save_replaces_in_one_transaction(two_states, tmp_path, monkeypatch):
    from mentormatch.programme.store import sqlite as S

    old, new = two_states
    db = old.save(tmp_path / "p.sqlite")
    before = _dump(db)
    real = S._rows

    def failing(frame, columns, prefix=()):
        rows = list(real(frame, columns, prefix))
        if columns[0] == "instance":
            yield from rows[:3]
            raise OSError("disk full")
        yield from rows

    monkeypatch.setattr(S, "_rows", failing)
    with pytest.raises(OSError):
        new.save(db)
    assert _dump(db) == before
    monkeypatch.undo()
    new.save(db)
    assert _state(Programme.load(db)) == _state(new)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_sqlite_save_killed_midway_keeps_the_old_state(two_states, tmp_path):
    from mentormatch.programme.store import sqlite as S

    old, new = two_states
    db = old.save(tmp_path / "p.sqlite")
    for table_column in ("mentee_id", "instance"):  # during the round rows, during the history
        pid = os.fork()
        if pid == 0:
            real = S._rows

            def dying(frame, columns, prefix=()):
                for k, row in enumerate(real(frame, columns, prefix)):
                    if columns[0] == table_column and k == 2:
                        os._exit(17)
                    yield row

            S._rows = dying
            try:
                new.save(db)
            finally:
                os._exit(0)
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 17
        assert _state(Programme.load(db)) == _state(old)


def test_sqlite_damage_is_a_clear_error(two_states, tmp_path):
    prog = two_states[0]
    db = prog.save(tmp_path / "p.sqlite")
    con = sqlite3.connect(db)
    con.execute("DELETE FROM history WHERE position = 0")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="meta.counts") as info:
        Programme.load(db)
    assert info.value.problems[0].table == f"{db} (history)"
    con = sqlite3.connect(db)
    con.execute("UPDATE history SET score = 'high' WHERE position = 1")
    con.commit()
    con.close()
    with pytest.raises(StoreError) as info:
        Programme.load(db)
    assert info.value.problems[0].column == "score" and info.value.problems[0].value == "high"
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="junk.db"):
        Programme.load(tmp_path / "junk.db")
    with pytest.raises(StoreError, match="missing"):
        Programme.load(tmp_path / "nothing.sqlite")


def test_sqlite_refuses_another_database_and_a_folder(two_states, tmp_path):
    prog = two_states[0]
    other = tmp_path / "crm.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE customers (id TEXT)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="other tables"):
        prog.save(other)
    assert _dump(other)[1].startswith("CREATE TABLE customers")
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreError, match="folder store"):
        prog.save(tmp_path / "dir.db")


# --------------------------------------------------------------------------------------------
# leftovers of the earlier save code (.P.saving-*, .P.old-* beside the store)
# --------------------------------------------------------------------------------------------
def _old_style(state_dir: Path, where: Path, manifest: bool = True) -> Path:
    """A copy of a saved folder at ``where``, as the earlier code left it (no lock file; the
    manifest, written last, missing when that save was killed while writing)."""
    shutil.copytree(state_dir, where, ignore=shutil.ignore_patterns(".lock"))
    if not manifest:
        (where / "manifest.json").unlink()
    return where


@pytest.mark.parametrize("how", ["load", "save"])
def test_old_style_leftovers_beside_a_store_are_cleared(two_states, tmp_path, how):
    old, new = two_states
    base = new.save(tmp_path / "base")
    d = old.save(tmp_path / "p")
    ours = [_old_style(base, tmp_path / ".p.saving-ab12cd_9"),
            _old_style(base, tmp_path / ".p.saving-zz99zz99", manifest=False),
            _old_style(base, tmp_path / ".p.old-k3j4h5g6" / "save").parent]
    (tmp_path / ".p.old-empty000").mkdir()  # made, then killed before the first rename
    ours.append(tmp_path / ".p.old-empty000")
    # not ours: another store's, another name, a folder holding something else
    others = [_old_style(base, tmp_path / ".q.saving-ab12cd34"),
              _old_style(base, tmp_path / ".p.saving-toolong123"),
              tmp_path / ".p.old-notours1"]
    (others[-1] / "save").mkdir(parents=True)
    (others[-1] / "save" / "thesis.docx").write_text("mine")
    if how == "load":
        assert _state(Programme.load(d)) == _state(old)
    else:
        new.save(d)
        assert _state(Programme.load(d)) == _state(new)
    assert not any(x.exists() for x in ours)
    assert all(x.exists() for x in others)
    assert (others[-1] / "save" / "thesis.docx").read_text() == "mine"


def test_a_save_of_the_earlier_code_killed_between_its_renames_is_recovered(two_states, tmp_path):
    """The earlier code moved P into .P.old-*/save, then the finished .P.saving-* to P: killed
    in between, P is missing. A load puts back the finished new state; without one, the old."""
    old, new = two_states
    a, b = old.save(tmp_path / "a"), new.save(tmp_path / "b")
    _old_style(a, tmp_path / ".p.old-aaaaaaaa" / "save")
    _old_style(b, tmp_path / ".p.saving-bbbbbbbb")
    _old_style(a, tmp_path / ".p.saving-cccccccc", manifest=False)  # another, killed midway
    d = tmp_path / "p"
    assert _state(Programme.load(d)) == _state(new)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a", "b", "p"]
    # only the old state left (the new one never finished): it comes back, for a save too
    _old_style(a, tmp_path / ".r.old-aaaaaaaa" / "save")
    _old_style(b, tmp_path / ".r.saving-bbbbbbbb", manifest=False)
    r = tmp_path / "r"
    assert _state(Programme.load(r)) == _state(old)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a", "b", "p", "r"]
    _old_style(a, tmp_path / ".s.old-aaaaaaaa" / "save")
    new.save(tmp_path / "s")
    assert _state(Programme.load(tmp_path / "s")) == _state(new)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a", "b", "p", "r", "s"]
