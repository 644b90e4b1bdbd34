"""The task registry (name -> function) and what every runner offers.

A task is a plain function taking JSON-able keyword arguments; `perform` runs it in an
application context of its own and removes its session after, whichever runner calls it.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask

from server.db import db
from server.operations import metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Task:
    name: str
    fn: Callable[..., object]
    #: cron line for a periodic task (run by the worker), None for one run on demand
    cron: str | None = None


TASKS: dict[str, Task] = {}


def task(name: str, *, cron: str | None = None) -> Callable:
    """Register `fn` as task `name` (periodic when `cron` is given)."""

    def register(fn: Callable) -> Callable:
        TASKS[name] = Task(name, fn, cron)
        return fn

    return register


def load() -> dict[str, Task]:
    """Every task (imported on first use: the services import `server.jobs` themselves)."""
    importlib.import_module("server.jobs.tasks")
    return TASKS


def perform(app: Flask, name: str, args: dict) -> object:
    """Run task `name` in an application context of `app`."""
    found = load().get(name)
    if found is None:
        raise LookupError(f"no task named {name!r}")
    started, status = time.perf_counter(), "failed"
    with app.app_context():
        try:
            result = found.fn(**args)
            status = "done"
            return result
        finally:
            db.session.remove()
            metrics.observe_job(name, status, time.perf_counter() - started)


class Runner:
    """What `server.jobs` asks of a runner."""

    kind = ""

    def defer(self, name: str, args: dict) -> None:
        raise NotImplementedError

    def depth(self) -> dict[str, int]:
        """Jobs waiting and running now, by status (`todo`, `doing`)."""
        raise NotImplementedError
