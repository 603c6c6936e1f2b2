"""`appliance models ...`: the model registry (docs/models.md)."""
from __future__ import annotations

from .common import print_json, services_from


def register(sub) -> None:
    p = sub.add_parser("models", help="register, list and switch GGUF models")
    ms = p.add_subparsers(dest="models_command", metavar="ACTION")
    ms.required = True

    a = ms.add_parser("add", help="register a GGUF file (sha256 and header recorded)")
    a.add_argument("path", metavar="PATH")
    a.add_argument("--name", help="its name in the registry (default: the file name)")
    a.add_argument("--frame", choices=("auto", "completion", "chat"), default="auto",
                   help="how it is prompted: its chat template (chat), the few-shot frame of "
                        "a base model (completion); auto: chat when the GGUF has a template")
    a.add_argument("--activate", action="store_true", help="serve it at once")
    a.set_defaults(func=cmd_add)

    ls = ms.add_parser("list", help="registered models; the one serving is marked")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)

    act = ms.add_parser("activate", help="serve a registered model ('bundled': the default)")
    act.add_argument("name")
    act.set_defaults(func=cmd_activate)

    rm = ms.add_parser("remove", help="forget a registered model (the file stays)")
    rm.add_argument("name")
    rm.set_defaults(func=cmd_remove)


def cmd_add(args) -> int:
    app = services_from(args)
    info = app.models.add(args.path, args.name, "cli", args.frame)
    print(f"registered {info.name}: {info.architecture}, {_params(info.parameters)} parameters, "
          f"{info.quantization or 'unknown quantization'}, context {info.context_length}, "
          f"frame {info.frame}, sha256 {info.sha256[:16]}…")
    if info.license:
        print("licence: " + ", ".join(f"{k.split('.', 1)[1]} {v}" for k, v in info.license.items()))
    if args.activate:
        app.models.activate(info.name, "cli")
        print(f"now serving {info.name} (running servers switch at their next answer)")
    return 0


def cmd_list(args) -> int:
    app = services_from(args)
    infos = app.models.list()
    if args.json:
        print_json({"serving": next((i.name for i in infos if i.active), "bundled"),
                    "models": [i.to_json() for i in infos]})
        return 0
    serving = any(i.active for i in infos)
    print(f"{'*' if not serving else ' '} bundled  (Gemma 3 270M base, Q4_K_M, frame completion)")
    for i in infos:
        print(f"{'*' if i.active else ' '} {i.name}  {i.architecture} {_params(i.parameters)} "
              f"{i.quantization}  context {i.context_length}  frame {i.frame}  "
              f"sha256 {i.sha256[:12]}…  {i.path}")
    return 0


def cmd_activate(args) -> int:
    app = services_from(args)
    info = app.models.activate(args.name, "cli")
    print(f"now serving {info.name if info else 'the bundled model'} (running servers switch "
          "at their next answer; an active adapter trained on another model is not loaded)")
    return 0


def cmd_remove(args) -> int:
    app = services_from(args)
    app.models.remove(args.name, "cli")
    print(f"removed {args.name} from the registry (the file is left where it is)")
    return 0


def _params(n: int) -> str:
    return f"{n / 1e9:.1f}B" if n >= 1e9 else f"{n / 1e6:.0f}M"
