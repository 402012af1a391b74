"""Idempotent provisioning steps: each one checks before it changes anything.

A step answers ``check(ctx)`` with TODO, DONE or N/A (with a reason), and ``apply(ctx)``
makes it DONE. Paths are target paths (``/etc/talon/hub.env``); ``ctx.path()`` maps them
into ``--root``. Commands that need the target's own tools (apt-get, useradd, the
target's python3) run through ``chroot ROOT`` when the root is not ``/``.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

log = logging.getLogger(__name__)

TODO, DONE, NA = "todo", "done", "n/a"


class StepError(RuntimeError):
    """A step failed; the message says what to do."""


@dataclass
class Context:
    """Where and how steps apply."""

    root: Path = Path("/")
    skip_system: bool = False
    python: str | None = None

    @property
    def chrooted(self) -> bool:
        return self.root.resolve() != Path("/")

    def path(self, target: str | PurePosixPath) -> Path:
        """The host path of a target path inside the root."""
        return self.root / PurePosixPath(target).relative_to("/")

    def in_root(self, cmd: list[str]) -> list[str]:
        return ["chroot", str(self.root), *cmd] if self.chrooted else cmd

    def run(self, cmd: list[str], *, env: dict[str, str] | None = None) -> str:
        log.info("running %s", " ".join(cmd))
        proc = subprocess.run(cmd, env={**os.environ, **(env or {})}, check=False, capture_output=True, text=True)
        if proc.returncode != 0:
            out = (proc.stdout + proc.stderr).strip().splitlines()[-15:]
            raise StepError(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n" + "\n".join(out))
        return proc.stdout

    # Users and groups are read from the target's own files, never from this machine's NSS.
    def passwd_entry(self, user: str) -> list[str] | None:
        return _find_entry(self.path("/etc/passwd"), user)

    def group_entry(self, group: str) -> list[str] | None:
        return _find_entry(self.path("/etc/group"), group)

    def uid_gid(self, user: str, group: str) -> tuple[int, int] | None:
        pw, gr = self.passwd_entry(user), self.group_entry(group)
        if pw is None or gr is None:
            return None
        return int(pw[2]), int(gr[2])


def _find_entry(path: Path, name: str) -> list[str] | None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    for line in lines:
        fields = line.split(":")
        if fields and fields[0] == name:
            return fields
    return None


@dataclass
class Step:
    """Base class: ``title`` is the one plan line, ``details`` extra lines for --dry-run."""

    system = False  # skipped by --skip-system (needs the target's package manager/users)

    @property
    def title(self) -> str:
        raise NotImplementedError

    def details(self) -> list[str]:
        return []

    def check(self, ctx: Context) -> tuple[str, str]:
        raise NotImplementedError

    def apply(self, ctx: Context) -> None:
        raise NotImplementedError


@dataclass
class AptPackages(Step):
    packages: tuple[str, ...]
    system = True

    @property
    def title(self) -> str:
        return "apt: install " + " ".join(self.packages)

    def missing(self, ctx: Context) -> list[str]:
        if not shutil.which("dpkg-query"):
            return list(self.packages)
        proc = subprocess.run(
            ["dpkg-query", f"--admindir={ctx.path('/var/lib/dpkg')}", "-W", "-f=${Package} ${db:Status-Abbrev}\n",
             *self.packages],
            check=False, capture_output=True, text=True,
        )
        installed = {line.split()[0].split(":")[0] for line in proc.stdout.splitlines() if line.split()[1:2] == ["ii"]}
        return [p for p in self.packages if p not in installed]

    def check(self, ctx: Context) -> tuple[str, str]:
        missing = self.missing(ctx)
        return (TODO, "missing: " + " ".join(missing)) if missing else (DONE, "")

    def apply(self, ctx: Context) -> None:
        missing = self.missing(ctx)
        env = {"DEBIAN_FRONTEND": "noninteractive"}
        # Installing into another root must not start its services on this machine.
        policy = ctx.path("/usr/sbin/policy-rc.d")
        added_policy = ctx.chrooted and not policy.exists()
        if added_policy:
            policy.write_text("#!/bin/sh\nexit 101\n")
            policy.chmod(0o755)
        try:
            ctx.run(ctx.in_root(["apt-get", "update", "-q"]), env=env)
            ctx.run(ctx.in_root(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]), env=env)
        finally:
            if added_policy:
                policy.unlink()


@dataclass
class SystemUser(Step):
    user: str
    home: str
    system = True

    @property
    def title(self) -> str:
        return f"user: system user {self.user}, home {self.home}, no login shell"

    def check(self, ctx: Context) -> tuple[str, str]:
        return (DONE, "") if ctx.passwd_entry(self.user) else (TODO, "")

    def apply(self, ctx: Context) -> None:
        ctx.run(ctx.in_root([
            "useradd", "--system", "--user-group", "--home-dir", self.home, "--create-home",
            "--shell", "/usr/sbin/nologin", "--comment", "Talon queue system", self.user,
        ]))


@dataclass
class GroupMembership(Step):
    user: str
    groups: tuple[str, ...]
    system = True

    @property
    def title(self) -> str:
        return f"groups: add {self.user} to {', '.join(self.groups)} (those that exist)"

    def wanted(self, ctx: Context) -> list[str]:
        """Existing groups the user is not yet a member of."""
        out = []
        for name in self.groups:
            entry = ctx.group_entry(name)
            if entry is not None and self.user not in entry[3].split(","):
                out.append(name)
        return out

    def check(self, ctx: Context) -> tuple[str, str]:
        if not any(ctx.group_entry(g) for g in self.groups):
            return NA, "none of these groups exists here"
        wanted = self.wanted(ctx)
        return (TODO, "missing: " + ", ".join(wanted)) if wanted else (DONE, "")

    def apply(self, ctx: Context) -> None:
        ctx.run(ctx.in_root(["usermod", "--append", "--groups", ",".join(self.wanted(ctx)), self.user]))


@dataclass
class Directory(Step):
    target: str
    mode: int
    owner: str = "root"
    group: str = "root"

    @property
    def title(self) -> str:
        return f"dir: {self.target} ({self.mode:04o} {self.owner}:{self.group})"

    def _state(self, ctx: Context) -> list[str]:
        p = ctx.path(self.target)
        if not p.is_dir():
            return ["missing"]
        st = p.stat()
        wrong = []
        if st.st_mode & 0o7777 != self.mode:
            wrong.append(f"mode {st.st_mode & 0o7777:04o}")
        ids = ctx.uid_gid(self.owner, self.group)
        if ids and (st.st_uid, st.st_gid) != ids:
            wrong.append("owner")
        return wrong

    def check(self, ctx: Context) -> tuple[str, str]:
        wrong = self._state(ctx)
        return (TODO, ", ".join(wrong)) if wrong else (DONE, "")

    def apply(self, ctx: Context) -> None:
        p = ctx.path(self.target)
        p.mkdir(parents=True, exist_ok=True)
        p.chmod(self.mode)
        ids = ctx.uid_gid(self.owner, self.group)
        if ids:
            os.chown(p, *ids)


@dataclass
class WriteFile(Step):
    target: str
    content: str
    mode: int = 0o644
    owner: str = "root"
    group: str = "root"
    origin: str = ""
    secret_keys: tuple[str, ...] = ()
    secret: bool = False            # the whole file is a secret (a password file): never shown

    @property
    def title(self) -> str:
        src = f" from {self.origin}" if self.origin else ""
        return f"file: {self.target} ({self.mode:04o} {self.owner}:{self.group}){src}"

    def details(self) -> list[str]:
        if self.origin:
            return []
        if self.secret:
            return ["******** (secret, not shown)"]
        lines = []
        for line in self.content.splitlines():
            key = line.split("=", 1)[0]
            lines.append(f"{key}=********" if key in self.secret_keys else line)
        return lines

    def check(self, ctx: Context) -> tuple[str, str]:
        p = ctx.path(self.target)
        try:
            current = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            return TODO, "missing"
        wrong = []
        if current != self.content:
            wrong.append("content differs")
        st = p.stat()
        if st.st_mode & 0o7777 != self.mode:
            wrong.append(f"mode {st.st_mode & 0o7777:04o}")
        ids = ctx.uid_gid(self.owner, self.group)
        if ids and (st.st_uid, st.st_gid) != ids:
            wrong.append("owner")
        return (TODO, ", ".join(wrong)) if wrong else (DONE, "")

    def apply(self, ctx: Context) -> None:
        p = ctx.path(self.target)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(p.name + ".talon-new")
        # Created with the final mode so a secret is never readable, even for an instant.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, self.mode)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(self.content)
        os.chmod(tmp, self.mode)
        ids = ctx.uid_gid(self.owner, self.group)
        if ids:
            os.chown(tmp, *ids)
        os.replace(tmp, p)


def wanted_by(unit_text: str) -> list[str]:
    """The targets in a unit's ``[Install] WantedBy=``."""
    section, targets = "", []
    for raw in unit_text.splitlines():
        line = raw.strip()
        if line.startswith("["):
            section = line
        elif section == "[Install]" and line.startswith("WantedBy="):
            targets += line.split("=", 1)[1].split()
    return targets


@dataclass
class EnableUnit(Step):
    """``systemctl enable``: the ``<target>.wants/`` symlinks named by ``[Install]``."""

    name: str  # talon-hub.service or an instance, talon-counter@3.service
    unit_file: str  # the installed file it comes from, /etc/systemd/system/talon-counter@.service
    unit_text: str

    @property
    def title(self) -> str:
        return f"enable: {self.name} ({', '.join(wanted_by(self.unit_text))})"

    def links(self, ctx: Context) -> list[Path]:
        base = ctx.path("/etc/systemd/system")
        return [base / f"{t}.wants" / self.name for t in wanted_by(self.unit_text)]

    def check(self, ctx: Context) -> tuple[str, str]:
        bad = [link for link in self.links(ctx) if os.readlink(link) != self.unit_file] if all(
            link.is_symlink() for link in self.links(ctx)) else ["missing"]
        return (TODO, "not enabled") if bad else (DONE, "")

    def apply(self, ctx: Context) -> None:
        if shutil.which("systemctl"):
            root = [f"--root={ctx.root}"] if ctx.chrooted else []
            ctx.run(["systemctl", *root, "enable", self.name])
        if self.check(ctx)[0] != DONE:  # no systemctl here, or it wrote nothing: do what it does
            for link in self.links(ctx):
                link.parent.mkdir(parents=True, exist_ok=True)
                if link.is_symlink() or link.exists():
                    link.unlink()
                link.symlink_to(self.unit_file)


@dataclass
class KernelCmdline(Step):
    """Add a parameter (``consoleblank=0``) to the Pi's kernel command line."""

    param: str
    candidates: tuple[str, ...] = ("/boot/firmware/cmdline.txt", "/boot/cmdline.txt")

    @property
    def title(self) -> str:
        return f"kernel: {self.param} on the kernel command line ({self.candidates[0]})"

    def file(self, ctx: Context) -> Path | None:
        return next((ctx.path(c) for c in self.candidates if ctx.path(c).is_file()), None)

    def check(self, ctx: Context) -> tuple[str, str]:
        f = self.file(ctx)
        if f is None:
            return NA, "no cmdline.txt: not a Raspberry Pi boot partition (see docs/deploy.md)"
        key = self.param.split("=", 1)[0]
        words = f.read_text().split()
        return (DONE, "") if self.param in words else (
            (TODO, "different value") if any(w.startswith(key + "=") for w in words) else (TODO, ""))

    def apply(self, ctx: Context) -> None:
        f = self.file(ctx)
        assert f is not None
        key = self.param.split("=", 1)[0]
        words = [w for w in f.read_text().split() if not w.startswith(key + "=")]
        # cmdline.txt must stay one line.
        f.write_text(" ".join([*words, self.param]) + "\n")


@dataclass
class Venv(Step):
    target: str

    @property
    def title(self) -> str:
        return f"venv: {self.target}"

    def check(self, ctx: Context) -> tuple[str, str]:
        ok = ctx.path(self.target + "/pyvenv.cfg").is_file() and os.path.lexists(ctx.path(self.target + "/bin/python"))
        return (DONE, "") if ok else (TODO, "")

    def apply(self, ctx: Context) -> None:
        if ctx.chrooted and not ctx.skip_system:
            ctx.run(ctx.in_root([ctx.python or "python3", "-m", "venv", self.target]))
        else:
            ctx.run([ctx.python or sys.executable, "-m", "venv", str(ctx.path(self.target))])


_IGNORE = (".git", ".venv", "venv", "__pycache__", "*.pyc", "*.egg-info", "build", "dist", "data",
           ".pytest_cache", ".ruff_cache", "node_modules")


def source_digest(source: Path) -> str:
    """A fingerprint of a wheel or a source tree, to tell whether it is already installed."""
    h = hashlib.sha256()
    if source.is_file():
        h.update(source.read_bytes())
        return h.hexdigest()
    ignore = shutil.ignore_patterns(*_IGNORE)
    for dirpath, dirnames, filenames in os.walk(source):
        skip = ignore(dirpath, dirnames + filenames)
        dirnames[:] = sorted(d for d in dirnames if d not in skip)
        for name in sorted(f for f in filenames if f not in skip):
            p = Path(dirpath, name)
            h.update(str(p.relative_to(source)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


STAMP = "talon-install.json"


@dataclass
class PipInstall(Step):
    venv: str
    source: Path
    extras: tuple[str, ...] = ()
    pip_args: tuple[str, ...] = ()
    copy_to: str = "/opt/talon/src"

    @property
    def spec_name(self) -> str:
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        return f"{self.source}{extras}"

    @property
    def title(self) -> str:
        return f"pip: install {self.spec_name} into {self.venv}"

    def _stamp(self, ctx: Context) -> dict | None:
        try:
            return json.loads(ctx.path(f"{self.venv}/{STAMP}").read_text())
        except (FileNotFoundError, ValueError):
            return None

    def check(self, ctx: Context) -> tuple[str, str]:
        if not self.source.exists():
            raise StepError(f"source {self.source} does not exist (give --source: a checkout or a wheel)")
        stamp = self._stamp(ctx)
        if stamp is None:
            return TODO, "not installed"
        if stamp.get("digest") != source_digest(self.source):
            return TODO, "source changed"
        if not set(self.extras) <= set(stamp.get("extras", [])):
            return TODO, "extras missing"
        return DONE, ""

    def apply(self, ctx: Context) -> None:
        digest = source_digest(self.source)
        stamp = self._stamp(ctx) or {}
        extras = tuple(sorted(set(self.extras) | set(stamp.get("extras", [])))) if stamp.get("digest") == digest \
            else self.extras
        suffix = f"[{','.join(extras)}]" if extras else ""
        if ctx.chrooted and not ctx.skip_system:
            # The target's pip must see the source: copy it inside the root first.
            dest = ctx.path(f"{self.copy_to}/{self.source.name}")
            if dest.is_dir():
                shutil.rmtree(dest)
            dest.parent.mkdir(parents=True, exist_ok=True)
            if self.source.is_file():
                shutil.copy2(self.source, dest)
            else:
                shutil.copytree(self.source, dest, ignore=shutil.ignore_patterns(*_IGNORE))
            spec = f"{self.copy_to}/{self.source.name}{suffix}"
            cmd = ctx.in_root([f"{self.venv}/bin/python", "-m", "pip"])
        else:
            spec = f"{self.source}{suffix}"
            cmd = [str(ctx.path(f"{self.venv}/bin/python")), "-m", "pip"]
        # --force-reinstall of talon only (no deps): a changed tree with an unchanged
        # version number must still replace the installed copy.
        if "--no-deps" not in self.pip_args:
            ctx.run([*cmd, "install", "--disable-pip-version-check", *self.pip_args, spec])
        ctx.run([*cmd, "install", "--disable-pip-version-check", "--force-reinstall", "--no-deps",
                 *(a for a in self.pip_args if a != "--no-deps"), spec])
        ctx.path(f"{self.venv}/{STAMP}").write_text(json.dumps(
            {"source": str(self.source), "digest": digest, "extras": list(extras)}, indent=1) + "\n")


@dataclass
class Plan:
    role: str
    steps: list[Step] = field(default_factory=list)
