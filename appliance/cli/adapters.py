"""Adapter registry commands: adapters list | activate | deactivate."""
from __future__ import annotations

from pathlib import Path

from .common import print_json, services_from
from .tune import actor_name


def register(sub) -> None:
    p = sub.add_parser("adapters", help="list, activate or deactivate registered LoRA adapters")
    ad = p.add_subparsers(dest="adapters_command", metavar="ACTION")
    ad.required = True
    q = ad.add_parser("list", help="registered adapters with hashes and metrics")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_list)
    q = ad.add_parser("activate", help="serve this adapter from the next request on (audited); "
                                       "refused when its evaluation shows a regression")
    q.add_argument("version", help="adapter version (or 'latest')")
    q.add_argument("--force", action="store_true", help="activate despite a regression")
    q.add_argument("--actor", default=None, help="who activates it (default: the OS user)")
    q.set_defaults(func=cmd_activate)
    q = ad.add_parser("report", help="an adapter's quality report (from tune eval) as text, "
                                     "JSON or a plot")
    q.add_argument("version", help="adapter version (or 'latest')")
    q.add_argument("--json", action="store_true", help="the stored report, as JSON")
    q.add_argument("--plot", type=Path, default=None, metavar="PNG",
                   help="draw base against adapter into this PNG (needs matplotlib)")
    q.set_defaults(func=cmd_report)
    q = ad.add_parser("deactivate", help="serve the base model alone (audited)")
    q.add_argument("--actor", default=None)
    q.set_defaults(func=cmd_deactivate)


def cmd_list(args) -> int:
    items = services_from(args).adapters.list()
    if args.json:
        print_json([i.to_json() for i in items])
        return 0
    if not items:
        print("no adapters registered (appliance tune export --run NAME)")
    for i in items:
        mark = "*" if i.active else " "
        summary = i.metrics.get("summary") or ("not evaluated" if not i.metrics else "")
        print(f"{mark} v{i.version:<3} {i.name:24} sha256 {i.sha256[:12]}  base "
              f"{i.base_sha256[:12]}  data {(i.data_sha256 or '-')[:12]}  by {i.created_by} "
              f"{i.created_at[:19]}  refusal bias {i.refusal_bias:+g}  {summary}")
    return 0


def cmd_activate(args) -> int:
    from ..engines import generator_path, sha256_file

    app = services_from(args)
    serving = app.models.active()  # the registry's model, else the bundled one
    model = generator_path(app.settings)
    base = serving.sha256 if serving else (sha256_file(model) if model.is_file() else None)
    info = app.adapters.activate(args.version, actor_name(args), force=args.force,
                                 base_sha256=base)
    print(f"active: v{info.version} {info.name} sha256 {info.sha256[:16]}…"
          + (" (forced despite: " + "; ".join(info.regressions) + ")"
             if args.force and info.regressions else ""))
    if not info.metrics.get("general"):
        print("warning: general capability (HellaSwag, MMLU) was not measured for this adapter; "
              "`appliance tune eval --general-data DIR` measures it and the gate then judges it")
    if app.settings.lora_adapter_path:
        print("warning: the lora_adapter_path setting pins another adapter; the registry's "
              "active adapter is served only when that setting is empty")
    return 0


def cmd_report(args) -> int:
    from ..evaluation import format_report, plot_report
    from ..tuning import TuningError

    info = services_from(args).adapters.get(args.version)
    if not info.metrics:
        raise TuningError(f"adapter v{info.version} has no report yet (appliance tune eval "
                          f"--adapter {info.version})")
    report = {"version": info.version, "name": info.name, **info.metrics,
              "regressions": list(info.regressions)}
    if args.plot:
        print(f"plot: {plot_report(info.metrics, args.plot, f'adapter v{info.version} {info.name}')}")
    if args.json:
        print_json(report)
    elif not args.plot:
        print(format_report(report))
    return 0


def cmd_deactivate(args) -> int:
    previous = services_from(args).adapters.deactivate(actor_name(args))
    print(f"deactivated v{previous.version}; serving the base model" if previous
          else "no adapter was active")
    return 0


