"""One log line per event, readable as text and filterable as JSON (LOG_FORMAT=json).

    log_event(log, "segment.closed", camera="gate", bytes=812_345, seconds=10.0)

writes `segment closed camera=gate bytes=812345 seconds=10.0` at INFO, with `event`,
`camera`, `bytes` and `seconds` as fields of the JSON line. Imports nothing from Django.
"""

from __future__ import annotations

import logging

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def log_event(logger: logging.Logger, event: str, *, level: int = logging.INFO, **fields) -> None:
    if not logger.isEnabledFor(level):
        return
    text = " ".join([event.replace(".", " ").replace("_", " ")] + [f"{k}={_text(v)}" for k, v in fields.items()])
    # A field named like a LogRecord attribute (name, module...) would make logging raise.
    extra = {(f"{k}_" if k in _RESERVED else k): v for k, v in fields.items()}
    logger.log(level, "%s", text, extra={"event": event, **extra})


def _text(value) -> str:
    text = str(value)
    return f'"{text}"' if (" " in text or not text) else text
