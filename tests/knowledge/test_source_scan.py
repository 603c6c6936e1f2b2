"""The sync plan of a watched folder: rules, the hash cache, renames and exclusions (no models)."""
import os

from appliance.knowledge import source_scan
from appliance.knowledge.source_scan import Known, Rules, list_files, plan


def write(root, rel, text):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def known_from(root, rules=Rules()):
    out = []
    for i, (rel, st) in enumerate(sorted(list_files(root, rules).items())):
        sha = source_scan.file_sha256(root / rel)
        out.append(Known(i + 1, rel, st.size, st.mtime_ns, sha, 100 + i, "indexed"))
    return out


def test_rules_keep_supported_visible_files_and_apply_globs(tmp_path):
    for rel in ("a.md", "b.txt", "c.exe", ".hidden.md", ".git/x.md", "drafts/d.md",
                "policies/p.pdf", "notes.tmp.md"):
        write(tmp_path, rel, "x")
    assert sorted(list_files(tmp_path, Rules())) == [
        "a.md", "b.txt", "drafts/d.md", "notes.tmp.md", "policies/p.pdf"]
    rules = Rules(include=("*.md", "policies/"), exclude=("drafts/", "*.tmp.md"))
    assert sorted(list_files(tmp_path, rules)) == ["a.md", "policies/p.pdf"]


def test_unchanged_files_are_not_read_again(tmp_path, monkeypatch):
    for i in range(20):
        write(tmp_path, f"f{i}.md", f"file {i}")
    known = known_from(tmp_path)
    reads = []
    real = source_scan.file_sha256
    monkeypatch.setattr(source_scan, "file_sha256", lambda p: reads.append(p) or real(p))
    result = plan(tmp_path, Rules(), known, 10**9)
    assert result.unchanged == 20 and result.pending == 0 and reads == []
    # touched (new mtime, same bytes): read once, not a change
    os.utime(tmp_path / "f3.md", ns=(1, 1))
    result = plan(tmp_path, Rules(), known, 10**9)
    assert [c.relpath for c in result.touched] == ["f3.md"] and result.pending == 0


def test_new_changed_gone_renamed_and_excluded(tmp_path):
    write(tmp_path, "keep.md", "same")
    write(tmp_path, "edit.md", "before")
    write(tmp_path, "old-name.md", "moving content")
    write(tmp_path, "delete.md", "bye")
    write(tmp_path, "drafts/x.md", "draft")
    known = known_from(tmp_path)
    write(tmp_path, "edit.md", "after, longer")
    (tmp_path / "sub").mkdir()
    (tmp_path / "old-name.md").rename(tmp_path / "sub" / "new-name.md")
    (tmp_path / "delete.md").unlink()
    write(tmp_path, "fresh.md", "new file")
    result = plan(tmp_path, Rules(exclude=("drafts/",)), known, 10**9)
    assert [c.relpath for c in result.new] == ["fresh.md"]
    assert [c.relpath for c in result.changed] == ["edit.md"]
    assert [(c.known.relpath, c.relpath) for c in result.renamed] == [
        ("old-name.md", "sub/new-name.md")]
    assert sorted(k.relpath for k in result.gone) == ["delete.md", "drafts/x.md"]
    assert result.unchanged == 1
