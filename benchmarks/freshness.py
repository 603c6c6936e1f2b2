"""Knowledge freshness and erasure (issue 22), on the real model, embedder, FAISS and SQLite.

    python benchmarks/freshness.py [--rounds 5] [--files 10000]

change   a 10-page document in a watched folder, the serving process's watcher running (as
         under `appliance serve`): a figure in it is changed and saved; the time from the save
         to the first answer that cites the new version and gives the new figure (target
         p95 <= 30 s); then the file is deleted: the time until no answer cites it (<= 10 s).
rescan   a source of N files (default 10,000) synced once, then rescanned with no change
         (target <= 10 s).
erase    a subject mentioned in 1% of those N documents and in a conversation: `erase
         --subject` end to end, VACUUM included (target <= 60 s), then every file of the data
         dir read for the subject's text (target: none).
"""
from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from _table import ROOT, SCIFACT, percentile, report

PAGE = ("Section {p}. The facilities team keeps the building open from 7 am to 7 pm on "
        "weekdays. Contractors sign in at the front desk and wear a visitor badge. "
        "Deliveries arrive at the loading bay behind the east wing. ") * 6
FIGURE = "The annual travel allowance for field staff is {n} pounds."
QUESTION = "What is the annual travel allowance for field staff?"
SUBJECT = "ZK90417Q"


def services(data: Path, **kw):
    from appliance.engines import assemble_generator
    from appliance.services import build_services
    from appliance.settings import load_settings

    settings = load_settings({"data_dir": str(data), **kw}, environ={})
    assemble_generator(settings)  # what `appliance init` does: the GGUF into the data dir
    return build_services(settings)


def document(n: int) -> str:
    pages = [f"## Page {p}\n\n" + PAGE.format(p=p) for p in range(1, 11)]
    pages[6] += "\n\n" + FIGURE.format(n=n) + "\n"
    return "# Field staff handbook\n\n" + "\n\n".join(pages)


def stage_change(rounds: int) -> list[tuple]:
    with tempfile.TemporaryDirectory() as tmp:
        data, folder = Path(tmp) / "data", Path(tmp) / "share"
        folder.mkdir()
        (folder / "field-handbook.md").write_text(document(1000))
        app = services(data, source_debounce_seconds=1.0)
        app.sources.add(folder, "default")
        app.sources.sync()
        app.chat  # noqa: B018 - the model loaded, as in a serving worker
        app.watch_sources_in_background()
        lags, gone = [], []
        for r in range(rounds):
            n = 1200 + 10 * r
            saved = time.monotonic()
            (folder / "field-handbook.md").write_text(document(n))
            while True:
                answer = app.chat.ask(QUESTION)
                if str(n) in answer.answer.replace(",", "") and any(
                        c.version == r + 2 for c in answer.citations):
                    break
                if time.monotonic() - saved > 120:
                    raise SystemExit(f"round {r}: no answer with {n} after 120 s: {answer.answer}")
            lags.append(time.monotonic() - saved)
        (folder / "field-handbook.md").unlink()
        removed = time.monotonic()
        while any(c.doc_name == "field-handbook.md" for c in app.chat.ask(QUESTION).citations):
            time.sleep(0.2)
        gone.append(time.monotonic() - removed)
        app.close()
    return [("change -> answer p50 (s)", rounds, f"{percentile(lags, 50):.1f}", "≤ 30"),
            ("change -> answer p95 (s)", rounds, f"{percentile(lags, 95):.1f}", "≤ 30"),
            ("delete -> gone (s)", 1, f"{gone[0]:.1f}", "≤ 10")]


def make_files(folder: Path, n: int) -> None:
    import json

    abstracts = [json.loads(line)["text"] for line in
                 (SCIFACT / "corpus.jsonl").read_text().splitlines()[:2000]]
    for i in range(n):
        sub = folder / f"d{i // 500:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        body = f"# Record {i}\n\nRecord {i}. {abstracts[i % len(abstracts)][:600]}\n"
        if i % 100 == 7:
            body += f"\nThe case reference {SUBJECT} was reviewed for record {i}.\n"
        (sub / f"record-{i:05d}.md").write_text(body)


def stage_rescan_and_erase(n: int) -> list[tuple]:
    from appliance.accounts.login import Principal

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data, folder = Path(tmp) / "data", Path(tmp) / "many"
        make_files(folder, n)
        app = services(data)
        app.sources.add(folder, "default")
        t = time.monotonic()
        [first] = app.sources.sync(progress=True)
        rows.append((f"first sync of {n} files (s)", first.added, f"{time.monotonic() - t:.1f}",
                     ""))
        times = []
        for _ in range(3):
            t = time.monotonic()
            [again] = app.sources.sync()
            times.append(time.monotonic() - t)
            assert again.changes == 0, again
        rows.append(("rescan, no change (s)", n, f"{min(times):.2f}", "≤ 10"))
        app.accounts.create_user(None, "clerk", "user", "a-long-enough-passw0rd")
        user = app.accounts.user("clerk")
        who = Principal(user.id, user.username, user.role, "cli")
        for _ in app.conversations.ask(who, f"What happened to case {SUBJECT}?"):
            pass
        t = time.monotonic()
        plan = app.erasure.plan(subject=SUBJECT)
        done = app.erasure.erase(plan, actor="bench", subject=SUBJECT)
        seconds = time.monotonic() - t
        counts = plan.scope.counts()
        rows.append((f"erase subject ({counts['chunks']} chunks, "
                     f"{counts['conversations']} conversation) (s)", n, f"{seconds:.1f}", "≤ 60"))
        needle = SUBJECT.encode()
        traces = [p for p in data.rglob("*") if p.is_file() and
                  (needle in p.read_bytes() or needle.lower() in p.read_bytes())]
        rows.append(("files holding the subject after", len(traces),
                     "; ".join(str(p.relative_to(data)) for p in traces) or "none", "none"))
        rows.append(("mentions found after", sum(done.remaining.values()), "", "0"))
        app.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--stages", default="change,rescan")
    args = parser.parse_args()
    stages = args.stages.split(",")
    rows = []
    if "change" in stages:
        rows += stage_change(args.rounds)
    if "rescan" in stages:
        rows += stage_rescan_and_erase(args.files)
    report("freshness", rows, ("measure", "n", "value", "target"))


if __name__ == "__main__":
    main()
