"""The daemon's configuration: one TOML file decoded into frozen Structs.

Unknown keys are refused, and every error names the file, the key and the reason. Each
enabled source runs on an interval (`"90s"`, `"15m"`, `"6h"`, or seconds) or a crontab
line (`"*/15 * * * *"`, UTC), with up to `jitter` seconds added so that rivals do not fire
in step; a disabled one (`enabled = false`) needs no schedule. A crontab line is checked
whole when the file is loaded: a field out of range (`61 * * * *`) or a line that never
fires (`0 0 31 2 *`) is refused then, not when the daemon schedules it. Weekdays count as
in crontab (0 and 7 are Sunday, 1 is Monday), not as APScheduler 3 counts them (0 is
Monday): numbered weekdays are turned into names before APScheduler reads the line.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Literal, TypeVar

import msgspec
from apscheduler.triggers.cron import CronTrigger

from connectors.errors import ConfigError
from connectors.sync.syncer import DEFAULT_ABSENCE_RUNS, DEFAULT_MAX_DELIST_SHARE
from connectors.venues.http import MAX_BODY
from connectors.venues.registry import SOURCES

_DURATION: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
T = TypeVar("T")
_UNIT: Final = {None: 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
#: Crontab's weekday numbers (0 and 7 are Sunday) as the names APScheduler reads alike.
_WEEKDAYS: Final = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NUMBERED: Final = re.compile(r"^(\*|\d+)(?:-(\d+))?(?:/(\d+))?$")


class SourceConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How one source runs."""

    enabled: bool = True
    interval: str | int | None = None
    cron: str | None = None
    jitter: float = 0.0
    base_url: str | None = None
    markets: list[str] | None = None
    concurrency: int = 4
    timeout: float = 30.0
    absence_runs: int = DEFAULT_ABSENCE_RUNS
    max_delist_share: float = DEFAULT_MAX_DELIST_SHARE
    #: Megabytes one response body of this source may hold (default 64).
    max_body_mb: float = MAX_BODY / 2**20


class Config(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The whole daemon configuration."""

    root: str = "data/lakehouse"
    log_format: Literal["text", "json"] = "text"
    #: Seconds a run may start late (a busy machine, a suspended laptop) and still run.
    misfire_grace: float = 300.0
    #: Seconds a stop waits for running syncs before cancelling them (they append nothing).
    stop_timeout: float = 10.0
    #: An Ed25519 private key (`catalog keygen`): each commit's head is signed with it.
    signing_key: str | None = None
    #: A JSON-lines file outside the root, or an object-store URI: each signed head is
    #: appended to it after its commit (needs `signing_key`).
    witness: str | None = None
    sources: dict[str, SourceConfig] = msgspec.field(default_factory=dict)


def seconds(value: str | int, key: str, path: str) -> float:
    """Return an interval given as seconds or as `90s`, `15m`, `6h`, `1d`."""
    if isinstance(value, int):
        amount = float(value)
    else:
        found = _DURATION.match(value)
        if found is None:
            raise ConfigError(path, f"{key}: {value!r} is not a duration such as '15m'")
        amount = float(found.group(1)) * _UNIT[found.group(2)]
    if amount <= 0:
        raise ConfigError(path, f"{key}: the interval must be positive")
    return amount


def cron_trigger(line: str) -> CronTrigger:
    """Return the UTC trigger of a 5-field crontab line; ValueError says what is wrong."""
    fields = line.split()
    if len(fields) != 5:
        raise ValueError("not a 5-field crontab line")
    fields[4] = ",".join(_weekdays(part) for part in fields[4].split(","))
    return CronTrigger.from_crontab(" ".join(fields), timezone=UTC)


def _weekdays(part: str) -> str:
    """Return one part of crontab's weekday field with its numbers as names."""
    found = _NUMBERED.match(part)
    if found is None or part == "*":
        return part  # `*`, a name, a range of names: APScheduler reads them as crontab does
    first, last, step = found.groups()
    if first == "*" and last is not None:
        return part  # `*-5`: APScheduler refuses it, saying why
    start = 0 if first == "*" else int(first)
    end = 6 if first == "*" or (last is None and step) else int(last or first)
    if max(start, end) > 7 or start > end:
        return part  # out of range: APScheduler refuses it, saying why
    days = range(start, end + 1, int(step or 1))
    return ",".join(dict.fromkeys(_WEEKDAYS[day] for day in days))


def load(path: str | Path) -> Config:
    """Read and check the configuration at `path`."""
    shown = str(path)
    try:
        text = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(shown, f"cannot read it: {exc.strerror or exc}") from exc
    try:
        raw = msgspec.toml.decode(text)
    except msgspec.DecodeError as exc:
        raise ConfigError(shown, f"not TOML: {exc}") from exc
    sources = raw.pop("sources", {}) if isinstance(raw, dict) else None
    if not isinstance(sources, dict):
        raise ConfigError(shown, "sources: expected tables such as [sources.okx]")
    config = _convert(raw, Config, "", shown)
    tables = {
        name: _convert(table, SourceConfig, f"sources.{name}", shown)
        for name, table in sources.items()
    }
    config = msgspec.structs.replace(config, sources=tables)
    _check(config, shown)
    return config


def _convert(raw: object, kind: type[T], key: str, path: str) -> T:
    try:
        return msgspec.convert(raw, kind)
    except msgspec.ValidationError as exc:
        raise ConfigError(path, _where(str(exc), key)) from exc


def _where(message: str, key: str) -> str:
    """Turn msgspec's `... - at `$.jitter`` into `sources.okx.jitter: ...`."""
    text, _, at = message.rpartition(" - at `")
    if not text:
        text, at = message, ""
    inner = at.rstrip("`").removeprefix("$").removeprefix(".")
    unknown = re.search(r"unknown field `([^`]+)`", text)
    if unknown:
        inner = ".".join(p for p in (inner, unknown.group(1)) if p)
        text = "unknown key"
    where = ".".join(p for p in (key, inner) if p) or "(top level)"
    return f"{where}: {text}"


def _check(config: Config, path: str) -> None:
    if not config.sources:
        raise ConfigError(path, "sources: no source is configured")
    if config.witness and not config.signing_key:
        raise ConfigError(path, "witness: a witness keeps signed heads; set signing_key too")
    for name, source in config.sources.items():
        key = f"sources.{name}"
        if name not in SOURCES:
            raise ConfigError(path, f"{key}: unknown source; known: {', '.join(SOURCES)}")
        if source.interval is not None and source.cron is not None:
            raise ConfigError(path, f"{key}: give exactly one of interval and cron")
        if source.enabled and source.interval is None and source.cron is None:
            raise ConfigError(
                path, f"{key}: give exactly one of interval and cron (or enabled = false)"
            )
        if source.interval is not None:
            seconds(source.interval, f"{key}.interval", path)
        if source.cron is not None:
            _check_cron(source.cron, f"{key}.cron", path)
        if source.jitter < 0 or source.concurrency < 1 or source.absence_runs < 1:
            raise ConfigError(
                path, f"{key}: jitter, concurrency and absence_runs must be >= 0, 1, 1"
            )
        if source.max_body_mb <= 0:
            raise ConfigError(path, f"{key}.max_body_mb: must be positive")
        if not 0 <= source.max_delist_share <= 1:
            raise ConfigError(path, f"{key}.max_delist_share: must be between 0 and 1")
        unknown = {m for m in source.markets or () if not SOURCES[name].knows(m)}
        if unknown:
            known = ", ".join(SOURCES[name].markets)
            raise ConfigError(path, f"{key}.markets: unknown {sorted(unknown)}; known: {known}")


def _check_cron(line: str, key: str, path: str) -> None:
    """Refuse a crontab line APScheduler would refuse, or one that never fires."""
    try:
        trigger = cron_trigger(line)
    except ValueError as exc:
        raise ConfigError(path, f"{key}: {line!r} is not a valid crontab line: {exc}") from exc
    if trigger.get_next_fire_time(None, datetime.now(UTC)) is None:
        raise ConfigError(path, f"{key}: {line!r} never fires")
