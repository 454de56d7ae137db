"""The one answer verifier of Tandem: judges RL rollouts, evaluation samples and study participants.

One rule judges models and people alike. It is HF's ``math-verify`` (``parse`` + ``verify`` with
``LatexExtractionConfig``/``ExprExtractionConfig``) behind a thin, fail-closed wrapper:

* Model output: the answer is the content of exactly one ``\\boxed{...}`` (or ``\\fbox{...}``,
  ``\\boxed {...}``; balanced braces, nesting allowed; an unclosed box does not count). Zero boxes,
  two or more boxes (even if they agree) or an empty box is ``"unparseable"``.
* Human answer: the whole field is the answer, after stripping whitespace and one surrounding
  ``$...$``, ``$$...$$``, ``\\(...\\)`` or ``\\[...\\]``. Empty is ``"unparseable"``.
* Both, and the dataset's expected answer, get the same normalisation, then are compared by
  mathematical equivalence with math-verify's defaults: ``1/2 = 0.5 = \\frac{1}{2}``, ``14 = 14.0``,
  ``013 = 13``, ``\\$14 = 14``, ``14\\text{ apples} = 14``, sets and intervals as math-verify does.
  Decisions on the disputed cases (all as math-verify does, unless said otherwise):

  - unicode minus-like signs (U+2212, en dash, ...) are ``-``; fullwidth digits and vulgar
    fractions (``½``) are NFKC-folded; zero-width characters are dropped (ours);
  - commas: ``1,000`` and ``1,000,000`` are thousands separators (groups of exactly three digits);
    ``1,5`` is the set {1, 5}, not 1.5. We also drop ``\\,``, ``~``, ``\\ `` and plain spaces between
    three-digit groups (``1\\,000``, ``1 000``), which math-verify would read as ``1*0 = 0`` (ours);
  - a trailing full stop after a number (``14.``) is dropped (ours; math-verify rejects it);
  - percentages: ``50\\%`` matches an expected ``50`` and also ``0.5``;
  - equations: when the expected answer is not an equation, the right-hand side of the last
    ``=`` is the answer, so ``x=14`` (and ``x=13=14``) match ``14``, while ``14=x`` does not;
  - a list or a set (``13, 14``, ``13 \\text{ or } 14``) never matches a single number; hedging fails;
  - an integer literal of more than ~4300 digits does not parse (Python's int limit): unparseable.

* Fail closed: anything missing, ambiguous, unparseable, too long (> ``MAX_ANSWER_CHARS``), timed
  out, or any error inside math-verify gives reward 0 and a ``details`` string saying why. Only an
  empty *expected* answer raises (``ValueError``): that is a bug in the caller, not a bad answer.
* Deterministic for a given input, as long as it finishes within the time limit.

Time limit and threads. math-verify's own timeouts use ``signal.alarm``: they only work in the main
thread (elsewhere ``parse`` raises ValueError), take whole seconds, and cannot stop a computation
stuck inside C. So the math runs in a small pool of worker subprocesses instead, started with the
current interpreter and ``sys.path``. In a worker's main thread we arm ``setitimer`` for
``timeout_s`` (soft limit: the worker answers "timed out" and stays usable; math-verify's own
timeouts are disabled so the two alarms do not clash); the caller waits ``timeout_s +
HARD_GRACE_S`` at most and then kills the worker (hard limit, also for C-level hangs). This works
the same from any thread. Each worker also has a 2 GiB address-space cap, so a huge number fails
with MemoryError instead of swapping. The first call in a process waits for a worker to start
(about a second, not counted against ``timeout_s``); a worker that cannot start at all is a broken
installation and raises RuntimeError rather than silently scoring everything 0.
"""

from __future__ import annotations

import atexit
import importlib.metadata
import json
import os
import re
import select
import subprocess
import sys
import threading
import time
import unicodedata
from dataclasses import asdict, dataclass

__all__ = [
    "VERIFIER_NAME",
    "VERIFIER_VERSION",
    "Verdict",
    "extract_boxed",
    "verify_model_output",
    "verify_human_answer",
    "check_expected",
    "reward",
]

VERIFIER_NAME = "math-verify"
# Bump when any rule in this module changes what is judged correct.
RULES_VERSION = 1


def _dist_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "missing"


# latex2sympy2_extended does the LaTeX parsing for math-verify, so its version changes verdicts too.
VERIFIER_VERSION = (
    f"math-verify=={_dist_version('math-verify')};"
    f"latex2sympy2-extended=={_dist_version('latex2sympy2_extended')};"
    f"tandem-rules={RULES_VERSION}"
)

CORRECT, INCORRECT, UNPARSEABLE = "correct", "incorrect", "unparseable"
VERDICTS = (CORRECT, INCORRECT, UNPARSEABLE)

# A final answer longer than this is not a final answer; refusing it keeps the math bounded.
MAX_ANSWER_CHARS = 2000
# How long past timeout_s the caller waits for a worker's own "timed out" before killing it.
HARD_GRACE_S = 1.0
# Starting a worker imports sympy; generous because machines are shared and caches may be cold.
WORKER_START_TIMEOUT_S = 120.0
WORKER_MEMORY_BYTES = 2 * 1024**3
MAX_WORKERS = max(2, os.cpu_count() or 2)


@dataclass(frozen=True)
class Verdict:
    """One judgement: what was extracted, the verdict, and why."""

    verifier: str
    version: str
    extracted: str | None
    verdict: str
    details: str

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")

    @property
    def reward(self) -> float:
        """Binary and fail-closed: 1.0 only for a correct answer."""
        return 1.0 if self.verdict == CORRECT else 0.0

    def to_dict(self) -> dict:
        """JSON-serialisable form for a database row (the dataclass fields plus ``reward``)."""
        return {**asdict(self), "reward": self.reward}


def _verdict(extracted: str | None, verdict: str, details: str) -> Verdict:
    return Verdict(VERIFIER_NAME, VERIFIER_VERSION, extracted, verdict, details)


# --------------------------------------------------------------------------- extraction

# One regex walks the text; Python only looks at boxes, escapes and braces, so 1 MB of prose is fast.
# `\\.` consumes escapes, so `\{`, `\}` and `\\` never count as braces.
_BOX_TOKENS = re.compile(
    r"(?P<box>\\(?:boxed|fbox)(?![A-Za-z])\s*\{)|(?P<escape>\\.)|(?P<brace>[{}])", re.DOTALL
)


def _scan_boxes(text: str) -> tuple[list[str], int]:
    """Return (contents of the outermost closed boxes in order, number of unclosed boxes)."""
    stack: list[int | None] = []  # per open brace: content start if it opens a box, else None
    closed: list[tuple[int, int]] = []
    for m in _BOX_TOKENS.finditer(text):
        kind = m.lastgroup
        if kind == "box":
            stack.append(m.end())
        elif kind == "brace" and m.group() == "{":
            stack.append(None)
        elif kind == "brace" and stack:  # a stray '}' in prose closes nothing
            start = stack.pop()
            if start is not None:
                closed.append((start, m.start()))
        # an escape (\{, \}, \\, ...) is skipped
    unclosed = sum(1 for start in stack if start is not None)
    # Inner boxes close first; keep only those not inside another closed box.
    outermost: list[tuple[int, int]] = []
    for start, end in sorted(closed):
        if outermost and start < outermost[-1][1]:
            continue
        outermost.append((start, end))
    return [text[start:end] for start, end in outermost], unclosed


def extract_boxed(text: str) -> list[str]:
    """Contents of every top-level ``\\boxed{...}`` or ``\\fbox{...}``, in order; unclosed ones don't count."""
    if not isinstance(text, str):
        return []
    return _scan_boxes(text)[0]


# --------------------------------------------------------------------------- normalisation

_CHAR_MAP = str.maketrans(
    {
        **dict.fromkeys("\u2212\u2010\u2011\u2012\u2013\u2014\ufe63\uff0d", "-"),  # minus-likes
        **dict.fromkeys("\u2044\u2215", "/"),  # fraction slash, division slash
        **dict.fromkeys("\u00a0\u2007\u2009\u202f\u3000", " "),  # unicode spaces
        **dict.fromkeys("\u200b\u200c\u200d\u2060\ufeff", None),  # zero-width junk
        "~": " ",  # LaTeX non-breaking space; math-verify rejects "14~"
    }
)
# Vulgar fractions (½) and fullwidth ASCII (１４): NFKC folds them to plain text. Not applied to
# the whole string, because NFKC would also turn x² into x2.
_NFKC_CHARS = re.compile(r"[\u00bc-\u00be\u2150-\u215e\uff01-\uff5e]+")
# A space-like LaTeX separator between three-digit groups: 1\,000, 1 000, 1\ 000, 1\;000.
_DIGIT_GROUPS = re.compile(r"(?<![\d.])\d{1,3}(?:(?:\\[,;: ]|\\thinspace\s*| )\d{3})+(?!\d)")
_GROUP_SEPARATOR = re.compile(r"\\[,;: ]|\\thinspace\s*| ")
_TRAILING_STOP = re.compile(r"(?<=\d)\.\s*$")
_DELIMITERS = (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$"))


def _normalise(answer: str) -> str:
    """Text-level clean-up shared by candidates and expected answers; the math is math-verify's."""
    answer = _NFKC_CHARS.sub(lambda m: unicodedata.normalize("NFKC", m.group()), answer)
    answer = answer.translate(_CHAR_MAP)
    answer = _DIGIT_GROUPS.sub(lambda m: _GROUP_SEPARATOR.sub("", m.group()), answer)
    return _TRAILING_STOP.sub("", answer.strip()).strip()


def _strip_delimiters(answer: str) -> str:
    """Remove one pair of surrounding math delimiters: ``$14$`` -> ``14``."""
    answer = answer.strip()
    for left, right in _DELIMITERS:
        if len(answer) >= len(left) + len(right) and answer.startswith(left) and answer.endswith(right):
            return answer[len(left) : len(answer) - len(right)].strip()
    return answer


def _clean_expected(expected: str) -> str:
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        expected = str(expected)  # a dataset's bare JSON number
    if not isinstance(expected, str) or not expected.strip():
        raise ValueError(f"expected answer must be a non-empty string, got {expected!r}")
    return _normalise(_strip_delimiters(_normalise(expected)))


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- public API


def verify_model_output(text: str, expected: str, timeout_s: float = 2.0) -> Verdict:
    """Judge a model's output: exactly one ``\\boxed{}`` answer, compared with ``expected``."""
    clean_expected = _clean_expected(expected)
    if not isinstance(text, str):
        return _verdict(None, UNPARSEABLE, f"output is a {type(text).__name__}, not text")
    boxes, unclosed = _scan_boxes(text)
    if len(boxes) != 1:
        found = f"{len(boxes)} \\boxed{{}} answers found" if boxes else "no \\boxed{} answer found"
        if unclosed:
            found += f" ({unclosed} unclosed)"
        return _verdict(None, UNPARSEABLE, found)
    return _judge(boxes[0].strip(), clean_expected, timeout_s)


def verify_human_answer(answer: str, expected: str, timeout_s: float = 2.0) -> Verdict:
    """Judge a participant's answer field: the whole field is the answer."""
    clean_expected = _clean_expected(expected)
    if not isinstance(answer, str):
        return _verdict(None, UNPARSEABLE, f"answer is a {type(answer).__name__}, not text")
    return _judge(_strip_delimiters(answer), clean_expected, timeout_s)


def check_expected(expected: str) -> str | None:
    """None if a dataset's expected answer parses (and equals itself), else the reason it does not."""
    try:
        clean = _clean_expected(expected)
    except ValueError:
        return "expected answer is empty"
    if len(clean) > MAX_ANSWER_CHARS:
        return f"expected answer is too long ({len(clean)} chars > {MAX_ANSWER_CHARS})"
    result = _call_worker({"op": "check", "expected": clean}, timeout_s=5.0)
    return None if result["status"] == "ok" else result["detail"]


def reward(text: str, expected: str) -> float:
    """RL reward of one rollout: 1.0 if its single boxed answer is correct, else 0.0."""
    return verify_model_output(text, expected).reward


def _judge(candidate: str, clean_expected: str, timeout_s: float) -> Verdict:
    """Compare an extracted answer with a cleaned expected answer; never raises for odd candidates."""
    if not (isinstance(timeout_s, (int, float)) and timeout_s > 0):
        raise ValueError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}")
    if not candidate:
        return _verdict("", UNPARSEABLE, "empty answer")
    if len(candidate) > MAX_ANSWER_CHARS:
        too_long = f"answer too long ({len(candidate)} chars > {MAX_ANSWER_CHARS})"
        return _verdict(_short(candidate, 200), UNPARSEABLE, too_long)
    if len(clean_expected) > MAX_ANSWER_CHARS:
        return _verdict(candidate, UNPARSEABLE, f"expected answer too long ({len(clean_expected)} chars)")
    request = {"op": "compare", "candidate": _normalise(candidate), "expected": clean_expected}
    result = _call_worker(request, timeout_s=float(timeout_s))
    status, detail = result["status"], result["detail"]
    if status == "correct":
        return _verdict(candidate, CORRECT, detail)
    if status == "incorrect":
        return _verdict(candidate, INCORRECT, detail)
    return _verdict(candidate, UNPARSEABLE, detail)


# --------------------------------------------------------------------------- worker pool (caller side)


class _WorkerDied(Exception):
    pass


class _Worker:
    """One subprocess running ``_worker_main``; used by one caller at a time."""

    # Load this file by path, not as ``tandem.verifier``, so the worker does not import the package
    # (and torch with it). sys.path is the caller's, so it finds what the caller finds.
    _BOOT = (
        "import importlib.util, json, sys\n"
        "sys.path[:] = json.loads(sys.argv[2])\n"
        "spec = importlib.util.spec_from_file_location('_tandem_verifier_worker', sys.argv[1])\n"
        "module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "module._worker_main()\n"
    )

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", self._BOOT, os.path.abspath(__file__), json.dumps(sys.path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
            close_fds=True,
            start_new_session=True,  # a Ctrl-C in the terminal is the caller's to handle, not the worker's
        )
        self._buffer = b""
        try:
            hello = self.receive(time.monotonic() + WORKER_START_TIMEOUT_S)
        except (_WorkerDied, TimeoutError, OSError, ValueError) as exc:
            self.kill()
            raise RuntimeError(f"math-verify worker failed to start ({exc}); see its stderr") from exc
        if not hello.get("ready"):
            self.kill()
            raise RuntimeError(f"math-verify worker failed to start: {hello.get('detail', hello)}")

    def send(self, message: dict) -> None:
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    def receive(self, deadline: float) -> dict:
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no answer from worker")
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise _WorkerDied(f"worker exited with code {self.proc.wait()}")
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(timeout=10)
        except Exception:  # already gone, or unkillable: nothing more we can do
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except Exception:
                pass


class _Pool:
    """Idle workers shared by all threads; at most MAX_WORKERS run at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.slots = threading.BoundedSemaphore(MAX_WORKERS)
        self.idle: list[_Worker] = []
        self.pid = os.getpid()

    def _check_fork(self) -> None:
        # After fork the idle workers' pipes belong to the parent process: forget them, never use them.
        if self.pid != os.getpid():
            self.idle, self.pid = [], os.getpid()
            self.slots = threading.BoundedSemaphore(MAX_WORKERS)

    def acquire(self) -> _Worker:
        with self.lock:
            self._check_fork()
            slots = self.slots
        slots.acquire()
        try:
            with self.lock:
                while self.idle:
                    worker = self.idle.pop()
                    if worker.proc.poll() is None:
                        return worker
                    worker.kill()
            return _Worker()
        except BaseException:
            slots.release()
            raise

    def release(self, worker: _Worker, healthy: bool) -> None:
        with self.lock:
            if healthy and self.pid == os.getpid():
                self.idle.append(worker)
                worker = None
            try:
                self.slots.release()
            except ValueError:  # semaphore was replaced after a fork
                pass
        if worker is not None:
            worker.kill()

    def close(self) -> None:
        with self.lock:
            idle, self.idle = self.idle, []
        if self.pid == os.getpid():
            for worker in idle:
                worker.kill()


_POOL = _Pool()
atexit.register(_POOL.close)


def _call_worker(request: dict, timeout_s: float) -> dict:
    """Run one request in a worker within ``timeout_s`` (+ grace); returns {"status", "detail"}."""
    request = {**request, "timeout_s": timeout_s}
    worker = _POOL.acquire()
    healthy = False
    try:
        try:
            worker.send(request)
        except OSError:  # an idle worker died (e.g. the OOM killer): not this answer's fault, use a fresh one
            worker.kill()
            worker = _Worker()
            worker.send(request)
        result = worker.receive(time.monotonic() + timeout_s + HARD_GRACE_S)
        healthy = True
        return result
    except TimeoutError:
        return {"status": "timeout", "detail": f"timed out after {float(timeout_s)}s (worker killed)"}
    except (_WorkerDied, OSError, ValueError) as exc:
        # The worker crashed on this input (e.g. killed for memory): fail closed for this answer only.
        return {"status": "error", "detail": f"verifier worker failed: {_short(str(exc), 120)}"}
    finally:
        _POOL.release(worker, healthy)


# --------------------------------------------------------------------------- worker (subprocess side)


class _SoftTimeout(BaseException):
    """Raised by the worker's timer; a BaseException, so math-verify's ``except Exception`` lets it through."""


def _worker_main() -> None:
    """Serve requests, one JSON line each way, until stdin closes (the caller exited or killed us)."""
    import functools
    import logging
    import resource
    import signal

    # The protocol owns the real stdout; anything a library prints goes to stderr instead.
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def reply(message: dict) -> None:
        out.write(json.dumps(message).encode() + b"\n")

    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY_BYTES, WORKER_MEMORY_BYTES))
        except (ValueError, OSError):  # a stricter limit is already set: keep it
            pass
        from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify
    except BaseException as exc:
        reply({"ready": False, "detail": f"{type(exc).__name__}: {exc}"})
        return
    # We enforce time limits ourselves; silence math-verify's "timeout is disabled" warning.
    logging.getLogger("math_verify").setLevel(logging.ERROR)

    config = (LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig())

    @functools.lru_cache(maxsize=4096)  # GRPO checks many rollouts against the same expected answer
    def parse_answer(answer: str) -> tuple:
        # Wrapping in \boxed{} selects math-verify's boxed extraction and its LaTeX normalisation;
        # no_fallback: an unparsed answer is never compared as a raw string.
        boxed = "\\boxed{" + answer + "}"
        parsed = parse(boxed, extraction_config=config, fallback_mode="no_fallback", parsing_timeout=None)
        return tuple(parsed)

    armed = False

    def on_alarm(signum, frame):
        if armed:
            raise _SoftTimeout()

    signal.signal(signal.SIGALRM, on_alarm)

    def handle(request: dict) -> dict:
        expected = parse_answer(request["expected"])
        if not expected:
            shown = _short(request["expected"])
            return {"status": "no_expected", "detail": f"expected answer {shown!r} does not parse"}
        if request["op"] == "check":
            if not verify(list(expected), list(expected), timeout_seconds=None):
                return {"status": "no_expected", "detail": "expected answer does not equal itself"}
            return {"status": "ok", "detail": "parses"}
        candidate = parse_answer(request["candidate"])
        if not candidate:
            return {"status": "unparseable", "detail": "math-verify could not parse the answer"}
        if verify(list(expected), list(candidate), timeout_seconds=None):
            return {"status": "correct", "detail": "equivalent to the expected answer"}
        return {"status": "incorrect", "detail": "not equivalent to the expected answer"}

    reply({"ready": True})
    for line in sys.stdin.buffer:
        request = json.loads(line)
        timeout_s = request["timeout_s"]
        try:
            armed = True
            if request.get("soft_limit", True):
                signal.setitimer(signal.ITIMER_REAL, timeout_s)
            result = handle(request)
        except _SoftTimeout:
            result = {"status": "timeout", "detail": f"timed out after {float(timeout_s)}s"}
        except MemoryError:
            result = {"status": "error", "detail": "out of memory in math-verify"}
        except Exception as exc:  # anything math-verify let escape: fail closed, keep serving
            result = {"status": "error", "detail": f"math-verify error: {type(exc).__name__}"}
        finally:
            armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
        reply(result)
