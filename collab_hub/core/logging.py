"""Log lines stay one line: user-supplied arguments are escaped before they are formatted."""

import logging


def log_safe(value) -> str:
    """User-supplied text for a log line: control characters (CR, LF, ESC …) escaped, so nobody can
    forge a second log line or colour a terminal through a user name."""
    text = str(value)
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


class EscapeControlCharacters(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(log_safe(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: log_safe(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True
