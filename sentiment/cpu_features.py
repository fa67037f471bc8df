"""Which precision pays on this CPU: int8 only where the CPU multiplies int8 in hardware.

OpenVINO runs int8 everywhere (it lists INT8 among every x86 CPU's capabilities), but only the int8
dot-product instructions make it faster than fp32: AVX-512 VNNI, AVX-VNNI and AMX on x86, the dot
product extension on Arm. Measured on the whole fine-tuned encoder, 1,024 tweets in sorted takes of
128 on two cores (README): with AVX-512 VNNI, int8 ran 3.1 to 3.4 times torch; on an AVX2-only AMD
EPYC, int8 ran at 53 to 67 texts/s against fp32's 62 to 75 and torch's 59 to 72, so fp32 serves there.

The flags are read from /proc/cpuinfo (Linux, where the worker runs; its containers too). OpenVINO
exposes no such property and py-cpuinfo runs a CPUID probe in a subprocess for the same list, so this
reads the file. Elsewhere, or when the file cannot be read, the answer is "no" (fp32: never slower
than torch, and its figures are torch's).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

INT8_DOT_PRODUCT_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "amx_int8", "asimddp"})
"""/proc/cpuinfo flags of the int8 dot-product instructions (x86: AVX-512 VNNI, AVX-VNNI, AMX; Arm:
the dot product extension, listed as `asimddp`)."""

CPUINFO = Path("/proc/cpuinfo")


def flags_of(cpuinfo: str) -> frozenset[str]:
    """The feature flags named on the first `flags` (x86) or `Features` (Arm) line of a cpuinfo text."""
    for line in cpuinfo.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() in ("flags", "features"):
            return frozenset(value.split())
    return frozenset()


@cache
def cpu_flags(cpuinfo: Path = CPUINFO) -> frozenset[str]:
    """This machine's CPU feature flags (empty when they cannot be read)."""
    try:
        return flags_of(cpuinfo.read_text("utf-8", errors="replace"))
    except OSError:
        return frozenset()


def has_int8_dot_product(flags: Iterable[str] | None = None) -> bool:
    """Whether the CPU (or one with `flags`) has int8 dot-product instructions."""
    return not INT8_DOT_PRODUCT_FLAGS.isdisjoint(cpu_flags() if flags is None else flags)
