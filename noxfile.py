"""Developer sessions: ``nox -s tests`` (the README's test command), lint, typecheck, bench."""

from __future__ import annotations

import os

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite with branch coverage (soak runs excluded: ``nox -s soak``;
    Ray runs excluded: ``nox -s scale``)."""
    session.install("-e", ".[test]")
    session.run("coverage", "run", "-m", "pytest", "-m", "not soak and not ray", *session.posargs)
    session.run("coverage", "report", "--fail-under=85")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over everything."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package, the tests and the developer tools."""
    session.install("mypy>=1.10", "-e", ".[test]")
    session.run("mypy", "--strict", "grok_async", "tests", "tools")


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmark suite against a local server in a separate process (slow)."""
    session.install("-e", ".", "openai>=1.40", "aiohttp", "psutil")
    session.run("python", "benchmarks/run_all.py", *session.posargs)
    if "--quick" in session.posargs:
        # Small runs of the stand-alone benchmarks, so they cannot rot either.
        session.run("python", "benchmarks/bench_million.py", "--n", "20000")
        session.run("python", "benchmarks/bench_observability.py", "--quick")
        session.run("python", "benchmarks/count_calls.py", "--n", "1000")
        session.run("python", "benchmarks/bench_overhead.py")
        session.run("python", "benchmarks/bench_ratelimit.py", "--quick")
        session.run("python", "benchmarks/bench_batch.py", "--quick", "--reps", "1")
        session.run("python", "benchmarks/bench_handmade.py", "--quick", "--reps", "1")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site strictly (warnings are errors)."""
    session.install(
        "-e",
        ".",
        "mkdocs-material>=9.5",
        "mkdocstrings>=1.0",
        "mkdocstrings-python>=2.0",
        # `#:` comments on attributes become their docs in the API reference.
        "griffe-sphinx>=0.3",
        # Signatures are formatted with ruff, else printed on one long line.
        "ruff>=0.6",
    )
    session.run(
        "mkdocs",
        "build",
        "--strict",
        "--site-dir",
        "site",
        *session.posargs,
        # Material's banner about its successor is noise in CI logs.
        env={"NO_MKDOCS_2_WARNING": "1"},
    )


@nox.session
def audit(session: nox.Session) -> None:
    """pip-audit of the runtime dependencies against PyPI's advisory data (needs pypi.org)."""
    session.install("pip-audit>=2.7", "-e", ".")
    session.run("pip-audit", "--strict", "--progress-spinner", "off", "--skip-editable")


@nox.session
def scale(session: nox.Session) -> None:
    """Scaling out: the Redis rate limiter against a real redis-server, Ray Data on a local
    Ray instance, and a quick run of the Ray benchmark.

    redis-server comes from the PATH or ``REDIS_SERVER`` (Debian: ``apt-get install
    redis-server``); without one the Redis tests skip.
    """
    session.install("-e", ".[test,ray,redis]")
    session.run("pytest", "tests/test_redis_limiter.py", *session.posargs)
    session.run("pytest", "-m", "ray", "tests/test_ray.py", *session.posargs)
    session.run("python", "benchmarks/bench_ray.py", "--quick")


@nox.session
def soak(session: nox.Session) -> None:
    """The fault-soak and cancellation suites at full size (GROK_SOAK_N=10000).

    A GROK_SOAK_N already set wins, so CI can run the same session small.
    """
    session.install("-e", ".[test]")
    size = os.environ.get("GROK_SOAK_N", "10000")
    session.run("pytest", "-m", "soak", "-s", *session.posargs, env={"GROK_SOAK_N": size})
