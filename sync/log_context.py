"""What every log line of a piece of work carries: the link, record type, system and task
it is about.

The fields live in a context variable, so they follow the work through every function it
calls (and stay apart between threads and tasks); `LogContextFilter`, on the console
handler (config/settings/base.py), copies them onto each log record, and the JSON
formatter writes them as fields (`LOG_FORMAT=json`). A field that is not set is left out.
The hub sets `link_id`, `record_type`, `system` and `task_id` (and `receipt_id`,
`batch_id`); any other keyword is carried the same way.

- `log_context(link_id=…)`: a `with` block (or a decorator) whose log lines carry them.
- `logged_with("link_id")`: a decorator that puts the named arguments of each call there.
- `log_context_add(record_type=…)`: adds to the enclosing block, once a field is known
  (the record type, after the link is read).
- `task_id` is set for every django-q2 task by `task_context_connect()` (ops app).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

# Never changed in place: each change sets a new mapping, so a block can put back the one
# it found.
_fields: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "hub_log_context", default=MappingProxyType({})
)


def log_context_fields() -> dict[str, Any]:
    """The fields set where this is called (a copy)."""
    return dict(_fields.get())


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Log lines inside carry `fields` (None leaves a field out); on leaving, the fields
    are what they were before, whatever was added inside."""
    token = _fields.set(_merged(fields))
    try:
        yield
    finally:
        _fields.reset(token)


def log_context_add(**fields: Any) -> None:
    """Add `fields` until the enclosing `log_context` (or task) ends."""
    _fields.set(_merged(fields))


def logged_with(*names: str) -> Callable[[Callable], Callable]:
    """Decorate a function so that its log lines carry the named arguments of each call:
    `@logged_with("link_id")` above `def record_sync(link_id)`."""

    def decorate(function: Callable) -> Callable:
        signature = inspect.signature(function)
        unknown = [name for name in names if name not in signature.parameters]
        if unknown:
            raise TypeError(f"{function.__qualname__} takes no argument {', '.join(unknown)}")

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            bound = signature.bind_partial(*args, **kwargs).arguments
            with log_context(**{name: bound.get(name) for name in names}):
                return function(*args, **kwargs)

        return wrapper

    return decorate


def _merged(fields: dict[str, Any]) -> dict[str, Any]:
    current = dict(_fields.get())
    for name, value in fields.items():
        if value is None:
            current.pop(name, None)
        else:
            current[name] = value
    return current


class LogContextFilter(logging.Filter):
    """Copies the context's fields onto each record; a field given in `extra=` wins."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _fields.get().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


# django-q2 tasks ------------------------------------------------------------------------

_running = threading.local()


def _task_started(sender, func=None, task=None, **kwargs) -> None:
    tokens = _running.__dict__.setdefault("tokens", [])
    tokens.append(_fields.set(_merged({"task_id": (task or {}).get("id")})))


def _task_finished(sender, func=None, task=None, **kwargs) -> None:
    tokens = _running.__dict__.get("tokens")
    if tokens:
        _fields.reset(tokens.pop())


def task_context_connect() -> None:
    """Give every log line of a django-q2 task its `task_id`: set when the worker starts
    the task (`pre_execute`), put back when it has its result (`post_execute_in_worker`).
    Tasks run one at a time in a worker process; nested in-process (`sync`) tasks stack."""
    from django_q.signals import post_execute_in_worker, pre_execute

    pre_execute.connect(_task_started, dispatch_uid="hub-log-context-task-started")
    post_execute_in_worker.connect(_task_finished, dispatch_uid="hub-log-context-task-finished")
