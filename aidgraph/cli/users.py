"""`aidgraph users`: the people who sign in to the console (add with a one-time password, list, disable, reset)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from aidgraph.cli.context import CommandContext, comma_list, fail
from auth.audit import Caller
from auth.people.users import PERMISSIONS, UserError, add_user, disable_user, list_users, reset_user

if TYPE_CHECKING:
    from aidgraph.cli.context import Commands

# From the command line no client asks: the event names the person running it (`--by`) alone.
_COMMAND_LINE = Caller.the_hub()


def register(commands: Commands) -> None:
    users = commands.add_parser("users", help="the people who sign in to the console: add, list, disable, reset")
    actions = users.add_subparsers(required=True, metavar="ACTION")

    add = actions.add_parser("add", help="add a person and print their one-time password (once)")
    add.add_argument("name", metavar="NAME")
    add.add_argument(
        "--roles",
        required=True,
        type=comma_list,
        metavar="R1,R2",
        help=f"console permissions ({', '.join(PERMISSIONS)}) and policy roles, together",
    )
    add.add_argument("--regions", default=[], type=comma_list, metavar="3505,350583", help="for the policy roles")
    _by(add)
    add.set_defaults(run=_users_add)

    listing = actions.add_parser("list", help="list the people (never a password or secret)")
    listing.set_defaults(run=_users_list)

    disable = actions.add_parser("disable", help="refuse a person from now on; their sessions end at once")
    disable.add_argument("name", metavar="NAME")
    _by(disable)
    disable.set_defaults(run=_users_disable)

    reset = actions.add_parser("reset", help="a new one-time password, or a second factor to enrol again")
    reset.add_argument("name", metavar="NAME")
    reset.add_argument("--password", action="store_true", help="print a new one-time password (once)")
    reset.add_argument("--second-factor", action="store_true", help="enrol an authenticator app again at sign-in")
    _by(reset)
    reset.set_defaults(run=_users_reset)


def _by(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--by", default=os.environ.get("USER", "unknown"), help="who makes the change (for the audit)")


def _users_add(args: argparse.Namespace, context: CommandContext) -> int:
    try:
        password = add_user(context.store(), args.name, args.roles, args.regions, by=args.by, caller=_COMMAND_LINE)
    except UserError as error:
        return fail("users add", error)
    print(f"added {args.name}")
    print(f"one-time password: {password}")
    print("Hand it over now: it is shown only once, and must be changed at the first sign-in.")
    return 0


def _users_list(_args: argparse.Namespace, context: CommandContext) -> int:
    users = list_users(context.store())
    print(f"{'name':<24}{'status':<10}{'permissions':<44}{'roles':<28}{'regions':<16}second factor")
    for user in users:
        status = "disabled" if user.disabled else "enabled"
        factor = "enrolled" if user.totp_enrolled else "needed" if user.needs_second_factor else "-"
        if user.must_change_password:
            status += "*"
        print(
            f"{user.name:<24}{status:<10}{','.join(sorted(user.permissions)) or '-':<44}"
            f"{','.join(sorted(user.roles)) or '-':<28}{','.join(user.regions) or '-':<16}{factor}"
        )
    print(f"{len(users)} people (* : the one-time password is not changed yet)", file=sys.stderr)
    return 0


def _users_disable(args: argparse.Namespace, context: CommandContext) -> int:
    try:
        disable_user(context.store(), args.name, by=args.by, caller=_COMMAND_LINE)
    except UserError as error:
        return fail("users disable", error)
    print(f"{args.name} disabled: their sessions have ended and no sign-in is let through")
    return 0


def _users_reset(args: argparse.Namespace, context: CommandContext) -> int:
    if not (args.password or args.second_factor):
        return fail("users reset", "say what to reset: --password, --second-factor, or both")
    try:
        password = reset_user(
            context.store(),
            args.name,
            by=args.by,
            password=args.password,
            second_factor=args.second_factor,
            caller=_COMMAND_LINE,
        )
    except UserError as error:
        return fail("users reset", error)
    if args.second_factor:
        print(f"{args.name}: second factor cleared; they enrol an authenticator app again at the next sign-in")
    if password is not None:
        print(f"{args.name}: one-time password: {password}")
        print("Hand it over now: it is shown only once, and must be changed at the next sign-in.")
    print("Their sessions have ended.")
    return 0
