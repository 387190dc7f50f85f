"""What `add` reads beyond plain flags: the prompt from stdin (`add -`) or a file
(`--file F`), and a timeout with units (`-t 600s`, `10m`, `1h`)."""

from __future__ import annotations

import sys
from argparse import Namespace
from pathlib import Path

from pipeline.domain.when import parse_duration

MIN_BARE_MS = 1000  # a bare timeout below this is surely seconds typed as milliseconds


class AddInputError(ValueError):
    pass


def prompt_of(args: Namespace) -> str:
    if args.file:
        if args.prompt not in (None, "-"):
            raise AddInputError("give the prompt as an argument or with --file, not both")
        try:
            return Path(args.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise AddInputError(f"--file {args.file}: {error}") from None
    if args.prompt == "-":
        return sys.stdin.buffer.read().decode("utf-8", errors="strict")
    if args.prompt is None:
        raise AddInputError("a prompt is required: add PROMPT, add - (stdin) or --file F")
    return args.prompt


def timeout_ms(text: str | None) -> int | None:
    """Milliseconds from `600000`, `600s`, `10m`, `1h`; a bare number below 1000 is refused."""
    if text is None:
        return None
    if text.strip().isdigit():
        value = int(text)
        if value < MIN_BARE_MS:
            raise AddInputError(f"timeout: -t {text} is in milliseconds, under a second; "
                                f"write {text}s for seconds, or a unit (10m, 1h)")
        return value
    seconds = parse_duration(text)
    if seconds is None or seconds <= 0:
        raise AddInputError(f"timeout: -t {text}: expected milliseconds or a duration like "
                            "600s, 10m, 1h")
    return int(seconds * 1000)
