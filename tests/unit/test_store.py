import json
import threading

import pytest

from pipeline.storage.jsonfile import CorruptFile, HistoryLog, JsonFile, dumps


def test_format_is_two_space_and_unescaped(tmp_path):
    file = JsonFile(tmp_path / "q.json", "list")
    file.save({"list": [{"prompt": "ünï ✓"}]})
    text = (tmp_path / "q.json").read_text(encoding="utf-8")
    assert text == '{\n  "list": [\n    {\n      "prompt": "ünï ✓"\n    }\n  ]\n}\n'


@pytest.mark.parametrize("content", [b"", b"  \n", b'{"list": [', b"[1]", b'{"list": 3}'])
def test_damaged_files_raise_and_are_never_overwritten(tmp_path, content):
    path = tmp_path / "q.json"
    path.write_bytes(content)
    file = JsonFile(path, "list")
    with pytest.raises(CorruptFile):
        file.load()
    with pytest.raises(CorruptFile):
        file.update(lambda data: data["list"].append(1))
    assert path.read_bytes() == content


def test_missing_file_reads_as_empty(tmp_path):
    assert JsonFile(tmp_path / "none.json", "tasks").load() == {"tasks": []}


def test_unchanged_update_does_not_rewrite(tmp_path):
    path = tmp_path / "s.json"
    path.write_bytes(dumps({"tasks": [{"id": "a", "x": 1}]}))
    before = path.stat()
    JsonFile(path, "tasks").update(lambda data: None)
    after = path.stat()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)


def test_unknown_fields_survive_an_update(tmp_path):
    path = tmp_path / "q.json"
    path.write_text(json.dumps({"list": [], "owner": {"x": [1, 2]}}))
    JsonFile(path, "list").update(lambda data: data["list"].append({"id": "a"}))
    assert json.loads(path.read_text()) == {"list": [{"id": "a"}], "owner": {"x": [1, 2]}}


def test_concurrent_updates_lose_nothing(tmp_path):
    path = tmp_path / "q.json"

    def add_many(prefix):
        file = JsonFile(path, "list")  # one lock object per writer, like separate processes
        for n in range(25):
            file.update(lambda data, n=n: data["list"].append(f"{prefix}{n}"))

    threads = [threading.Thread(target=add_many, args=(p,)) for p in "abcd"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(JsonFile(path, "list").items()) == 100
    assert not list(tmp_path.glob(".*.tmp"))


def test_history_appends_and_skips_a_torn_line(tmp_path):
    log = HistoryLog(tmp_path)
    log.append("2026-11-25", {"id": "a"})
    log.append("2026-11-25", {"id": "b"})
    with open(log.path_for("2026-11-25"), "ab") as handle:
        handle.write(b'{"id": "c"')
    assert [r["id"] for r in log.read("2026-11-25")] == ["a", "b"]
