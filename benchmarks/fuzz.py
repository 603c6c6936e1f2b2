"""Fuzzing where untrusted bytes enter, for a fixed time per target (issue 20, part 3).

    python benchmarks/fuzz.py [--minutes 8] [--targets extraction,policy,export,api] [--seed 20]
                              [--sandbox-share 0.2] [--atheris-share 0.25]

Targets (the properties live in tests/fuzzing.py, shared with tests/test_fuzz_regressions.py):
    extraction  file_checks.check + extraction.extract(name, data) for .txt .md .html .pdf .docx
                on random bytes, byte mutations of valid files (samples/handbook plus small
                generated .docx/.pdf/.html/.md/.txt; a .docx's XML is also mutated inside an
                intact zip), and structure-aware files (zips of random WordprocessingML and
                styles, PDFs of random objects, fonts, CMaps and content streams, random HTML
                trees, text in several encodings). Allowed: non-empty Blocks or an IngestError.
                --sandbox-share of its time runs each file through the real sandbox
                (sandbox_for(Limits(cpu_seconds=10, wall_seconds=20))) too, which must answer
                within its wall limit with the same blocks or an IngestError; --atheris-share
                (when atheris is installed) runs libFuzzer's coverage-guided loop over the same
                check + extract in a child process.
    policy      privacy.parse_policy on random YAML, token soups, and structural and textual
                mutations of policies/*.yaml. Allowed: a Policy or PolicyError; a Policy that
                loads must then redact a sample text on every path.
    export      audit.verify_export on a copy of a real export (one per format, made once)
                whose events file, manifest bytes, lines or directory entries were changed, or
                whose manifest was changed and re-signed with the real key. Allowed: an
                ExportCheck or AuditError; a changed unsigned byte must never verify OK.
    api         /v1/chat/completions, /v1/embeddings, /v1/models through Flask's test client
                (fake embedder and generator, a real store, token and policy): random and
                malformed JSON (wrong types, huge numbers, deep nesting, unicode, NUL, bad
                content types). Allowed: any status under 500 and nothing logged as unexpected.

A crash is any other exception, a property broken (a tampered export that verifies, a 500, a
sandbox that disagrees), or an example running past the target's wall-clock alarm (Hang).
Crashes are told apart by exception type and the product line they went through; hypothesis
shrinks each new one, and its minimal example is written to tests/data/fuzz_crashes/
(<target>-<id>.json: input, error, traceback; plus the raw file for extraction and policy).
A signature already saved there is counted, not shrunk again. The table: target, engine,
minutes, examples (calls of the property, shrinking included), examples/s, distinct crashes,
of them new (not yet in tests/data/fuzz_crashes/). Hypothesis runs without a database, in
batches seeded from --seed (batch sizes follow the measured rate, so two runs differ).
Target: >= 30 minutes in all, 0 open crashes (a crash file's "status" goes from "open" to
"fixed" with its fix).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _table import ROOT, report

sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import fuzzing  # noqa: E402  (tests/fuzzing.py)

MAX_RAW = 256 * 1024  # a crash's raw input is saved only when smaller


def known_signatures(crash_dir: Path) -> dict[str, str]:
    """Signatures of the open crashes saved in crash_dir (a fixed one that comes back is new)."""
    out = {}
    for path in sorted(crash_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text())
            if data.get("status", "open") == "open":
                out[data["signature"]] = path.name
        except (ValueError, KeyError, AttributeError):
            continue
    return out


def save_crash(crash_dir: Path, target, example, exc: BaseException, sig: str,
               extra: dict) -> str:
    crash_dir.mkdir(parents=True, exist_ok=True)
    ident = hashlib.sha1(sig.encode()).hexdigest()[:10]
    stem = f"{target.name.split('-')[0]}-{ident}"
    info, raw = target.record(example)
    for suffix, data in raw.items():
        if len(data) <= MAX_RAW:
            (crash_dir / f"{stem}{suffix}").write_bytes(data)
            info["file"] = f"{stem}{suffix}"
        else:
            info["file"] = None
            info["note"] = f"input of {len(data)} bytes not saved (over {MAX_RAW})"
    payload = {"target": target.name, "signature": sig, "status": "open",
               "input": info, **fuzzing.describe(exc), **extra}
    (crash_dir / f"{stem}.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False)
                                            + "\n")
    return f"{stem}.json"


def fuzz_hypothesis(target, seconds: float, seed: int, crash_dir: Path, known: dict) -> dict:
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hseed

    found: dict[str, dict] = {}
    examples = 0
    started = time.monotonic()
    end = started + seconds
    rate, run = 20.0, 0
    while time.monotonic() < end:
        run += 1
        left = end - time.monotonic()
        batch = int(max(5, min(5000, rate * min(left, 30))))
        last: dict = {}
        n0, t0 = examples, time.monotonic()

        @settings(max_examples=batch, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
                  phases=(Phase.generate, Phase.shrink), verbosity=Verbosity.quiet,
                  print_blob=False)
        @hseed(seed * 1_000_003 + run)
        @given(target.strategy())
        def prop(example):
            nonlocal examples
            examples += 1
            try:
                target.run(example)
            except Exception as exc:  # noqa: BLE001 - classified below
                sig = fuzzing.signature(exc)
                if sig in found or sig in known:
                    entry = found.setdefault(sig, {"file": known.get(sig), "new": False,
                                                   "hits": 0})
                    entry["hits"] += 1
                    return
                last.update(example=example, exc=exc, sig=sig)
                raise

        try:
            prop()
        except Exception as exc:  # noqa: BLE001 - hypothesis re-raises the minimal example's
            if not last:
                print(f"  [{target.name}] run {run}: {type(exc).__name__}: {exc}"[:300],
                      file=sys.stderr)
                continue
            name = save_crash(crash_dir, target, last["example"], last["exc"], last["sig"],
                              {"engine": "hypothesis", "seed": seed, "run": run})
            found[last["sig"]] = {"file": name, "new": True, "hits": 1}
            print(f"  [{target.name}] NEW {last['sig']} -> {name}", file=sys.stderr)
        spent = time.monotonic() - t0
        rate = max(0.5, (examples - n0) / max(spent, 1e-3))
    return {"seconds": time.monotonic() - started, "examples": examples, "found": found}


# -- atheris: libFuzzer's coverage-guided loop in a child process --------------------------

def atheris_child(out: Path, seconds: int, seed: int) -> None:
    """Runs under libFuzzer until -max_total_time; crashes and counts go to `out` at once
    (libFuzzer ends the process without Python's clean-up)."""
    import atheris

    target = fuzzing.ExtractionTarget()
    target.timeout = 0  # libFuzzer's own -timeout uses SIGALRM
    with atheris.instrument_imports():
        import bs4  # noqa: F401
        import pypdf  # noqa: F401

        import appliance.knowledge.docx_reader  # noqa: F401
        import appliance.knowledge.extraction  # noqa: F401
        import appliance.knowledge.file_checks  # noqa: F401
    target.setup()
    known = known_signatures(out)
    counts = {"examples": 0, "written": time.monotonic()}

    def flush() -> None:
        (out / "stats.json").write_text(json.dumps({"examples": counts["examples"]}))
        counts["written"] = time.monotonic()

    def one(data: bytes) -> None:
        counts["examples"] += 1
        if len(data) < 2:
            return
        suffix = fuzzing.FORMATS[data[0] % len(fuzzing.FORMATS)]
        mode, body = data[1] % 4, data[2:]
        if suffix == ".docx" and mode < 2:  # the fuzzer writes the XML, the zip is sound
            body = fuzzing._zip([("word/document.xml", body)])
        example = ("atheris" + suffix, body)
        try:
            target.run(example)
        except Exception as exc:  # noqa: BLE001
            sig = fuzzing.signature(exc)
            if sig not in known:
                known[sig] = save_crash(out, target, example, exc, sig,
                                        {"seed": seed, "engine": "atheris"})
        if time.monotonic() - counts["written"] > 2:
            flush()

    corpus = out / "corpus"
    corpus.mkdir(exist_ok=True)
    for i, (name, data) in enumerate(fuzzing.seeds()):
        index = fuzzing.FORMATS.index(fuzzing._suffix(name))
        (corpus / f"seed-{i}").write_bytes(bytes([index, 2]) + data)
        if name.endswith(".docx"):
            xml = dict(fuzzing._unzip(data))["word/document.xml"]
            (corpus / f"seed-{i}-xml").write_bytes(bytes([index, 0]) + xml)
    flush()
    atheris.Setup([sys.argv[0], f"-max_total_time={seconds}", f"-seed={seed}", "-timeout=30",
                   "-rss_limit_mb=4096", "-max_len=65536", f"-artifact_prefix={out}/",
                   str(corpus)], one)
    atheris.Fuzz()


def fuzz_atheris(seconds: float, seed: int, crash_dir: Path, known: dict) -> dict:
    found: dict[str, dict] = {}
    examples, started = 0, time.monotonic()
    end = started + seconds
    attempt = 0
    while end - time.monotonic() > 20:  # a timeout or native crash ends a child: start again
        attempt += 1
        out = Path(tempfile.mkdtemp(prefix="fuzz-atheris-"))
        for sig, name in known.items():  # so the child skips what is known
            (out / name).write_text(json.dumps({"signature": sig}))
        budget = int(end - time.monotonic())
        with open(out / "libfuzzer.log", "wb") as log:
            subprocess.run([sys.executable, __file__, "--atheris-child", str(out),
                            "--seconds", str(budget), "--seed", str(seed + attempt)],
                           stdout=log, stderr=subprocess.STDOUT, timeout=budget + 300,
                           cwd=ROOT)
        try:
            examples += json.loads((out / "stats.json").read_text())["examples"]
        except (OSError, ValueError, KeyError):
            pass
        for path in sorted(out.glob("*.json")):
            if path.name == "stats.json":
                continue
            data = json.loads(path.read_text())
            if data.get("signature") in known or "target" not in data:
                continue
            for extra in out.glob(path.stem + ".*"):
                shutil.copy(extra, crash_dir / extra.name)
            known[data["signature"]] = path.name
            found[data["signature"]] = {"file": path.name, "new": True, "hits": 1}
            print(f"  [atheris] NEW {data['signature']} -> {path.name}", file=sys.stderr)
        for artifact in sorted(out.glob("*-*")):  # libFuzzer's own: timeout-, crash-, oom-
            if artifact.name.split("-")[0] in ("timeout", "crash", "oom", "leak"):
                sig = f"libFuzzer {artifact.name.split('-')[0]}"
                kept = crash_dir / f"extraction-atheris-{artifact.name}"[:120]
                shutil.copy(artifact, kept)
                tail = (out / "libfuzzer.log").read_text(errors="replace").splitlines()[-40:]
                (kept.with_suffix(".json")).write_text(json.dumps({
                    "target": "extraction", "signature": sig, "status": "open",
                    "input": {"file": kept.name}, "error": sig, "traceback": tail}, indent=2))
                found.setdefault(sig, {"file": kept.name, "new": True, "hits": 0})["hits"] += 1
        shutil.rmtree(out, ignore_errors=True)
    return {"seconds": time.monotonic() - started, "examples": examples, "found": found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=8.0, help="per target")
    parser.add_argument("--targets", default="extraction,policy,export,api")
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--sandbox-share", type=float, default=0.2,
                        help="share of extraction's time spent through the sandbox too")
    parser.add_argument("--atheris-share", type=float, default=0.25,
                        help="share of extraction's time under atheris (when installed)")
    parser.add_argument("--crash-dir", type=Path, default=fuzzing.CRASH_DIR)
    parser.add_argument("--atheris-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.atheris_child:
        atheris_child(args.atheris_child, args.seconds, args.seed)
        return

    fuzzing.quiet()
    known = known_signatures(args.crash_dir)
    rows, crashes = [], []
    for name in [t.strip() for t in args.targets.split(",") if t.strip()]:
        seconds = args.minutes * 60
        plan = [(fuzzing.TARGETS[name](), "hypothesis", seconds)]
        if name == "extraction":
            try:
                import atheris  # noqa: F401
                share = args.atheris_share
            except ImportError:
                share = 0.0
            sandbox = seconds * args.sandbox_share
            plan = [(fuzzing.ExtractionTarget(), "hypothesis", seconds * (1 - share) - sandbox),
                    (fuzzing.ExtractionTarget(sandbox=True), "hypothesis", sandbox)]
            if share:
                plan.append((fuzzing.ExtractionTarget(), "atheris", seconds * share))
        for target, engine, budget in plan:
            if budget <= 0:
                continue
            print(f"{target.name} ({engine}): {budget / 60:.1f} min", file=sys.stderr)
            if engine == "atheris":
                result = fuzz_atheris(budget, args.seed, args.crash_dir, known)
            else:
                target.setup()
                try:
                    result = fuzz_hypothesis(target, budget, args.seed, args.crash_dir, known)
                finally:
                    target.close()
            for sig, entry in result["found"].items():
                known.setdefault(sig, entry["file"])
                crashes.append({"target": target.name, "engine": engine, "signature": sig,
                                **entry})
            minutes = result["seconds"] / 60
            rows.append((target.name, engine, f"{minutes:.1f}", result["examples"],
                         f"{result['examples'] / max(result['seconds'], 1e-9):.1f}",
                         len(result["found"]),
                         sum(1 for e in result["found"].values() if e["new"])))
            print(f"  done: {'  '.join(str(v) for v in rows[-1])}", file=sys.stderr)
    total = sum(float(r[2]) for r in rows)
    rows.append(("total", "", f"{total:.1f}", sum(r[3] for r in rows), "",
                 len({c["signature"] for c in crashes}),
                 len({c["signature"] for c in crashes if c["new"]})))
    report("fuzz", rows, ("target", "engine", "minutes", "examples", "examples/s", "crashes",
                          "new"), {"seed": args.seed, "crashes": crashes})
    for crash in crashes:
        print(f"  {crash['target']}: {crash['signature']}  ({crash['hits']} hits) "
              f"-> {args.crash_dir / str(crash['file'])}")


if __name__ == "__main__":
    main()
