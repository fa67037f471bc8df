"""The OpenVINO fast path's precision follows the CPU: int8 only where it multiplies int8 in hardware."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from sentiment.cpu_features import cpu_flags, flags_of, has_int8_dot_product
from sentiment.openvino_export import FOLDER_SUFFIX, openvino_dir, served_precision

# Flag lines as /proc/cpuinfo prints them (shortened), from the hosts the README's figures come from.
AVX2_EPYC = (
    "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\n"
    "flags\t\t: fpu vme sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2 sha_ni vaes vpclmulqdq\n"
)
VNNI_EPYC = "flags\t\t: fpu sse2 avx avx2 avx512f avx512bw avx512vl avx512_bf16 avx512_vnni\n"
AMX_XEON = "flags\t\t: fpu sse2 avx avx2 avx512f avx512_bf16 amx_bf16 amx_tile amx_int8\n"
ALDER_LAKE = "flags\t\t: fpu sse2 avx avx2 avx_vnni\n"
NEOVERSE = "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes pmull crc32 asimddp\n"


@pytest.mark.parametrize(
    ("cpuinfo", "int8"),
    [
        (AVX2_EPYC, False),
        (VNNI_EPYC, True),
        (AMX_XEON, True),
        (ALDER_LAKE, True),
        (NEOVERSE, True),
        ("", False),
    ],
)
def test_int8_dot_product_is_read_off_the_cpu_flags(cpuinfo: str, int8: bool) -> None:
    assert has_int8_dot_product(flags_of(cpuinfo)) is int8


def test_flags_come_from_the_first_flags_line_only() -> None:
    two_cpus = AVX2_EPYC + "\nprocessor\t: 1\nflags\t\t: avx512_vnni\n"
    assert "avx2" in flags_of(two_cpus) and "avx512_vnni" not in flags_of(two_cpus)


def test_an_unreadable_cpuinfo_means_no_int8_and_so_fp32(tmp_path: Path) -> None:
    assert cpu_flags(tmp_path / "missing") == frozenset()
    readable = tmp_path / "cpuinfo"
    readable.write_text(VNNI_EPYC, "utf-8")
    assert "avx512_vnni" in cpu_flags(readable)


def test_auto_precision_is_this_machines_and_an_explicit_one_wins() -> None:
    auto = Settings(fast_precision="auto")
    assert served_precision(auto) == ("int8" if has_int8_dot_product() else "fp32")
    assert served_precision(auto.model_copy(update={"fast_precision": "int8"})) == "int8"
    assert served_precision(auto.model_copy(update={"fast_precision": "fp32"})) == "fp32"


def test_each_precision_has_a_folder_of_its_own(tmp_path: Path) -> None:
    int8, fp32 = openvino_dir(tmp_path, "v1", "int8"), openvino_dir(tmp_path, "v1", "fp32")
    assert int8 != fp32 and int8.parent == fp32.parent == tmp_path / "openvino"
    assert int8.name.endswith(FOLDER_SUFFIX["int8"]) and fp32.name.endswith(FOLDER_SUFFIX["fp32"])
