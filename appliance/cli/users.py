"""`appliance users ...` and `appliance groups ...`: accounts and access from the box itself.

The operator at the CLI is trusted (they own the data dir); changes are audited with actor
"cli". Passwords are generated and printed once unless --password-stdin gives one.
"""
from __future__ import annotations

import sys

from .common import print_json, services_from


def register(sub) -> None:
    users = sub.add_parser("users", help="list and manage web users")
    u = users.add_subparsers(dest="users_command", metavar="ACTION")
    u.required = True
    p = u.add_parser("list", help="users, roles, groups")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)
    p = u.add_parser("add", help="create a user (prints a generated password once)")
    p.add_argument("username")
    p.add_argument("--role", default="user", choices=("admin", "auditor", "reviewer", "user"))
    p.add_argument("--group", action="append", default=[], help="add to a group (repeatable)")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.set_defaults(func=cmd_add)
    p = u.add_parser("passwd", help="set a new password (ends the user's sessions)")
    p.add_argument("username")
    p.add_argument("--password-stdin", action="store_true")
    p.set_defaults(func=cmd_passwd)
    p = u.add_parser("role", help="change a user's role")
    p.add_argument("username")
    p.add_argument("role", choices=("admin", "auditor", "reviewer", "user"))
    p.set_defaults(func=cmd_role)
    for name, disabled in (("disable", True), ("enable", False)):
        p = u.add_parser(name, help=f"{name} a user" + (" (sessions and tokens stop at once)"
                                                       if disabled else ""))
        p.add_argument("username")
        p.set_defaults(func=cmd_disable, disabled=disabled)

    groups = sub.add_parser("groups", help="groups, members and collection access")
    g = groups.add_subparsers(dest="groups_command", metavar="ACTION")
    g.required = True
    p = g.add_parser("list", help="groups with members and collections")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_groups)
    p = g.add_parser("add", help="create a group")
    p.add_argument("name")
    p.add_argument("--description", default="")
    p.set_defaults(func=cmd_group_add)
    p = g.add_parser("member", help="add a user to a group (or --remove)")
    p.add_argument("group")
    p.add_argument("username")
    p.add_argument("--remove", action="store_true")
    p.set_defaults(func=cmd_member)
    p = g.add_parser("grant", help="let a group read (or write) a collection; --access none "
                                   "takes it away")
    p.add_argument("group")
    p.add_argument("collection")
    p.add_argument("--access", default="read", choices=("read", "write", "none"))
    p.set_defaults(func=cmd_grant)


def _password(args) -> str | None:
    if not args.password_stdin:
        return None
    return sys.stdin.readline().rstrip("\n")


def cmd_list(args) -> int:
    users = services_from(args).accounts.users()
    if args.json:
        print_json([{"username": u.username, "role": u.role, "disabled": u.disabled,
                     "groups": list(u.groups)} for u in users])
        return 0
    for u in users:
        state = " (disabled)" if u.disabled else ""
        print(f"{u.username:24} {u.role:8} {', '.join(u.groups) or '-'}{state}")
    return 0


def cmd_add(args) -> int:
    info, generated = services_from(args).accounts.create_user(
        None, args.username, args.role, _password(args), tuple(args.group))
    print(f"created {info.role} {info.username}")
    if generated:
        print(f"password: {generated}  (shown once)")
    return 0


def cmd_passwd(args) -> int:
    generated = services_from(args).accounts.reset_password(None, args.username,
                                                            _password(args))
    print(f"password changed for {args.username}; their sessions have ended")
    if generated:
        print(f"password: {generated}  (shown once)")
    return 0


def cmd_role(args) -> int:
    services_from(args).accounts.set_role(None, args.username, args.role)
    print(f"{args.username} is now {args.role}")
    return 0


def cmd_disable(args) -> int:
    services_from(args).accounts.set_disabled(None, args.username, args.disabled)
    print(f"{args.username} {'disabled' if args.disabled else 'enabled'}")
    return 0


def cmd_groups(args) -> int:
    groups = services_from(args).accounts.access.groups()
    if args.json:
        print_json([{"name": g.name, "description": g.description, "members": list(g.members),
                     "collections": g.grants} for g in groups])
        return 0
    for g in groups:
        grants = ", ".join(f"{c} ({a})" for c, a in g.grants.items()) or "-"
        print(f"{g.name:20} members: {', '.join(g.members) or '-'}; collections: {grants}")
    return 0


def cmd_group_add(args) -> int:
    services_from(args).accounts.access.create_group(None, args.name, args.description)
    print(f"created group {args.name}")
    return 0


def cmd_member(args) -> int:
    services_from(args).accounts.access.set_member(None, args.group, args.username,
                                                   not args.remove)
    print(f"{args.username} {'removed from' if args.remove else 'added to'} {args.group}")
    return 0


def cmd_grant(args) -> int:
    services_from(args).accounts.access.set_grant(None, args.group, args.collection, args.access)
    print(f"{args.group}: {args.access} access to {args.collection}")
    return 0
