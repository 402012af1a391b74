"""``talon setup ROLE``: the plan (a list of idempotent steps), printed or applied.

>>> plan = build_plan(SetupOptions(role="hub", office="mek", device="hub-1", source=Path("/src/talon")))
>>> print(render(plan).splitlines()[1])
 1. apt: install python3-venv ca-certificates mosquitto mosquitto-clients sqlite3
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from deploy.roles import COMMON_PACKAGES, ROLES, Role
from deploy.steps import (
    DONE,
    NA,
    AptPackages,
    Context,
    Directory,
    EnableUnit,
    GroupMembership,
    KernelCmdline,
    PipInstall,
    Plan,
    Step,
    StepError,
    SystemUser,
    Venv,
    WriteFile,
)
from host import paths

USER = "talon"
VENV = f"{paths.INSTALL_DIR}/venv"
UNIT_DIR = "/etc/systemd/system"
UNIT_SOURCE = Path(__file__).with_name("systemd")
SECRET_KEYS = ("TALON_DEVICE_PASSWORD",)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# the office's link to head office (docs/deploy.md, "Linking an office to head office"); the hub
# checks the same rules again (queue_core.config.parse_hq_section)
HQ_CONFIG = f"{paths.CONFIG_DIR}/hq.toml"
HQ_PASSWORD = f"{paths.SYSTEM_DATA_DIR}/hq.password"
_HQ_URL = re.compile(r"^mqtts?://[A-Za-z0-9.-]+(:\d{1,5})?$")


class SetupError(ValueError):
    """Bad options for ``talon setup``; the message names the option."""


@dataclass
class SetupOptions:
    role: str
    office: str
    device: str
    source: Path
    broker: str | None = None
    password: str | None = None
    windows: tuple[int, ...] = ()
    optional: bool = False
    pip_args: tuple[str, ...] = ()
    extra_env: dict[str, str] = field(default_factory=dict)
    hq: str | None = None               # the head-office broker, mqtts://host:8883 (hub only)
    hq_user: str | None = None          # the office's user there (default: the office id)
    hq_password: str | None = None
    hq_cafile: str | None = None        # CA of head office's certificate (default: the system's CAs)


def _quote(value: str) -> str:
    """A value for a systemd EnvironmentFile: bare when safe, else double-quoted."""
    if "\n" in value or "\r" in value:
        raise SetupError("values may not contain line breaks")
    if re.fullmatch(r"[A-Za-z0-9_./:@%+,-]*", value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def env_file_text(opts: SetupOptions, role: Role) -> str:
    """The /etc/talon/<role>.env the role's unit reads (EnvironmentFile=)."""
    values = {
        "TALON_ROLE": role.name,
        "TALON_OFFICE": opts.office,
        "TALON_DEVICE": opts.device,
        "TALON_BROKER": opts.broker or role.default_broker,
    }
    if opts.password:
        values["TALON_DEVICE_PASSWORD"] = opts.password
    values["TALON_DATA_DIR"] = str(paths.SYSTEM_DATA_DIR)
    if role.name == "hub":
        values["TALON_DATABASE_URL"] = f"sqlite:///{paths.SYSTEM_DATA_DIR}/{paths.DATABASE_NAME}"
    if opts.hq:
        values["TALON_HQ_CONFIG"] = HQ_CONFIG
    values.update(opts.extra_env)
    head = (f"# Talon {role.name}: written by `talon setup {role.name}`; read by its systemd unit.\n"
            "# Change it by running setup again (or edit, then `systemctl restart` the unit).\n")
    return head + "".join(f"{k}={_quote(v)}\n" for k, v in values.items())


def validate(opts: SetupOptions) -> Role:
    role = ROLES.get(opts.role)
    if role is None:
        raise SetupError(f"unknown role {opts.role!r}: choose one of {', '.join(ROLES)}")
    for name, value in (("--office", opts.office), ("--device", opts.device)):
        if not value or not _ID.match(value):
            raise SetupError(f"{name} must be 1-64 letters, digits, '-', '_' or '.' (got {value!r})")
    if role.needs_window and not opts.windows:
        raise SetupError(f"role {role.name} needs --window N (the window number it serves)")
    if opts.windows and role.template is None:
        raise SetupError(f"role {role.name} does not take --window")
    if any(w < 1 for w in opts.windows):
        raise SetupError("--window must be a positive window number")
    if role.needs_password and not opts.password:
        raise SetupError(f"role {role.name} needs the device password: --password or TALON_DEVICE_PASSWORD "
                         "(printed by `talon devices add` on the hub)")
    broker = opts.broker or role.default_broker
    if not re.match(r"^mqtts?://[^/\s]+$", broker):
        raise SetupError(f"--broker must look like mqtt://host:1883 or mqtts://host:8883 (got {broker!r})")
    if opts.hq is not None:
        _validate_hq(opts, role)
    return role


def _validate_hq(opts: SetupOptions, role: Role) -> None:
    if role.name != "hub":
        raise SetupError("--hq is for the hub: its broker carries the office to head office")
    if not _HQ_URL.match(opts.hq or ""):
        raise SetupError(f"--hq must look like mqtts://hq.example:8883 (got {opts.hq!r})")
    if opts.hq_user is not None and not _ID.match(opts.hq_user):
        raise SetupError(f"--hq-user must be 1-64 letters, digits, '-', '_' or '.' (got {opts.hq_user!r})")
    if not opts.hq_password or any(c.isspace() for c in opts.hq_password):
        raise SetupError("--hq needs the office's password on the head-office broker: --hq-password or "
                         "TALON_HQ_PASSWORD (no spaces or line breaks; given by head office)")
    if opts.hq_cafile is not None and not opts.hq_cafile.startswith("/"):
        raise SetupError(f"--hq-cafile must be an absolute path (got {opts.hq_cafile!r})")


def hq_toml_text(opts: SetupOptions) -> str:
    """The ``[hq]`` section the hub reads (``TALON_HQ_CONFIG``); the password stays out of it."""
    def q(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = ["# Talon: this office's link to head office; written by `talon setup hub --hq`.",
             "# The password is in " + HQ_PASSWORD + ".", "[hq]", f"url = {q(opts.hq or '')}",
             f"user = {q(opts.hq_user or opts.office)}"]
    if opts.hq_cafile:
        lines.append(f"cafile = {q(opts.hq_cafile)}")
    return "\n".join(lines) + "\n"


def _unit_text(name: str) -> str:
    return (UNIT_SOURCE / name).read_text(encoding="utf-8")


def build_plan(opts: SetupOptions) -> Plan:
    """The steps for one role, in order. Pure: reads only the unit files of this package."""
    role = validate(opts)
    packages = (*COMMON_PACKAGES, *role.packages, *(role.optional_packages if opts.optional else ()))
    steps: list[Step] = [
        AptPackages(packages),
        SystemUser(USER, str(paths.SYSTEM_DATA_DIR)),
    ]
    if role.groups:
        steps.append(GroupMembership(USER, role.groups))
    steps += [
        Directory(str(paths.SYSTEM_DATA_DIR), 0o750, USER, USER),
        Directory(str(paths.CONFIG_DIR), 0o755),
        Venv(VENV),
        PipInstall(VENV, opts.source, role.extras, opts.pip_args),
        WriteFile(f"{paths.CONFIG_DIR}/{role.name}.env", env_file_text(opts, role), 0o640, "root", USER,
                  secret_keys=SECRET_KEYS),
    ]
    if opts.hq:
        steps += [WriteFile(HQ_CONFIG, hq_toml_text(opts), 0o640, "root", USER),
                  WriteFile(HQ_PASSWORD, f"{opts.hq_password}\n", 0o600, USER, USER, secret=True)]
    units = [u for u in (role.unit, role.template, *role.extra_units) if u]
    for unit in units:
        steps.append(WriteFile(f"{UNIT_DIR}/{unit}", _unit_text(unit), origin=f"deploy/systemd/{unit}"))
    if opts.windows:
        assert role.template is not None
        enable = [(role.template.replace("@.", f"@{w}."), role.template) for w in opts.windows]
    else:
        enable = [(role.unit, role.unit)] if role.unit else []
    enable += [(u, u) for u in role.enable_extra]
    for name, unit in enable:
        steps.append(EnableUnit(name, f"{UNIT_DIR}/{unit}", _unit_text(unit)))
    if role.display:
        steps.append(KernelCmdline("consoleblank=0"))
    return Plan(role.name, steps)


def render(plan: Plan, root: Path = Path("/")) -> str:
    """The plan as the technician reads it (``--dry-run``)."""
    lines = [f"Plan for `talon setup {plan.role}` (root {root}):"]
    for n, step in enumerate(plan.steps, 1):
        lines.append(f"{n:2d}. {step.title}")
        lines += [f"      {d}" for d in step.details()]
    return "\n".join(lines) + "\n"


def apply(plan: Plan, ctx: Context, out: TextIO) -> int:
    """Apply each step that is not yet done; 0 on success, 1 at the first failure."""
    changed = 0
    total = len(plan.steps)
    for n, step in enumerate(plan.steps, 1):
        tag = f"[{n:2d}/{total}]"
        if step.system and ctx.skip_system:
            print(f"{tag} skipped  {step.title} (--skip-system)", file=out)
            continue
        try:
            state, why = step.check(ctx)
            if state == DONE:
                print(f"{tag} ok       {step.title}", file=out)
                continue
            if state == NA:
                print(f"{tag} n/a      {step.title}: {why}", file=out)
                continue
            step.apply(ctx)
            state, why = step.check(ctx)
            if state != DONE:
                raise StepError(f"still not done after applying ({why})")
        except (StepError, OSError) as exc:
            print(f"{tag} FAILED   {step.title}\n{exc}", file=out)
            return 1
        changed += 1
        print(f"{tag} done     {step.title}", file=out)
    if changed:
        print(f"{changed} step(s) changed the system", file=out)
    else:
        print("nothing to do: every step was already done", file=out)
    return 0
